using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using VoiceKraliki.Simulator.Admin;
using VoiceKraliki.Simulator.Calls;
using VoiceKraliki.Simulator.Faults;
using VoiceKraliki.Simulator.Scenarios;
using VoiceKraliki.Simulator.Telnyx;
using VoiceKraliki.Simulator.Twilio;
using VoiceKraliki.Simulator.Webhooks;
using VoiceKraliki.Telephony.Signatures;

namespace VoiceKraliki.Simulator;

/// <summary>
/// Plays Twilio and Telnyx towards our system: their REST APIs for placing and controlling calls, and
/// their signed webhooks as each call plays its scripted scenario. Runs in-process on Kestrel (tests) or
/// from the command line. One instance serves one start/stop.
/// </summary>
public sealed class ProviderSimulator : IAsyncDisposable
{
    private readonly TimeProvider _time;
    private readonly TelnyxWebhookSigner _telnyxSigner;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private HttpClient? _webhookClient;
    private CallLifecycle? _lifecycle;
    private WebhookSender? _sender;
    private string? _baseUrl;

    /// <exception cref="ArgumentException">A setting is invalid; the message names its key.</exception>
    public ProviderSimulator(SimulatorOptions? options = null, TimeProvider? timeProvider = null)
    {
        Options = options ?? new SimulatorOptions();
        _time = timeProvider ?? TimeProvider.System;
        Validate(Options);

        if (!CallScenario.TryParse(Options.DefaultScenario, out var defaultScenario, out var error))
        {
            throw new ArgumentException($"Simulator:DefaultScenario: {error}", nameof(options));
        }

        Scenarios = new ScenarioBook(defaultScenario);
        foreach (var (number, text) in Options.Scenarios)
        {
            if (!CallScenario.TryParse(text, out var scenario, out error))
            {
                throw new ArgumentException($"Simulator:Scenarios:{number}: {error}", nameof(options));
            }

            Scenarios.Set(number, scenario);
        }

        _telnyxSigner = string.IsNullOrEmpty(Options.Telnyx.SigningKeySeed)
            ? TelnyxWebhookSigner.Generate()
            : new TelnyxWebhookSigner(DecodeSeed(Options.Telnyx.SigningKeySeed));
        Faults = new FaultInjector(_time);
    }

    public SimulatorOptions Options { get; }

    /// <summary>Per-number scenarios; changes apply to calls placed afterwards.</summary>
    public ScenarioBook Scenarios { get; }

    public FaultInjector Faults { get; }

    public CallRegistry Calls { get; } = new();

    /// <summary>The key our system must be given (<c>Telephony__Telnyx__PublicKey</c>) to verify Telnyx webhooks.</summary>
    public string TelnyxPublicKeyBase64 => _telnyxSigner.PublicKeyBase64;

    /// <summary>Every webhook delivery attempt so far, in order.</summary>
    public IReadOnlyList<WebhookAttempt> WebhookAttempts => _sender?.Attempts ?? [];

    /// <summary><c>http://127.0.0.1:&lt;port&gt;</c>, no trailing slash: the API base URL for both providers.</summary>
    public string BaseUrl => _baseUrl ?? throw new InvalidOperationException("The simulator has not been started.");

    /// <param name="port">0 picks a free port.</param>
    /// <param name="address">Where to listen; the loopback address when null.</param>
    public async Task StartAsync(int port = 0, IPAddress? address = null, CancellationToken cancellationToken = default)
    {
        if (_app is not null)
        {
            throw new InvalidOperationException("The simulator is already started.");
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(address ?? IPAddress.Loopback, port));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();

        // Twilio's default connect timeout (ct) is 5 s; the per-attempt total is WebhookTimeout.
        _webhookClient = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5), PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            Timeout = Options.WebhookTimeout,
        };
        _sender = new WebhookSender(_webhookClient, _time, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<ProviderSimulator>());
        _lifecycle = new CallLifecycle(
            _time,
            new TwilioCallbacks(Options.Twilio, _sender, _time),
            new TelnyxEvents(Options.Telnyx, _telnyxSigner, _sender, _time));
        var sim = new SimulatorContext(Options, Calls, Scenarios, Faults, _lifecycle, _time) { Stopping = _stopping.Token };

        app.UseFaults(sim);
        app.MapTwilioApi(sim);
        app.MapTelnyxApi(sim);
        app.MapAdminApi(sim, _sender);

        await app.StartAsync(cancellationToken);
        _app = app;
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _baseUrl = bound.TrimEnd('/');
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_app is null)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_lifecycle is not null)
        {
            await _lifecycle.DisposeAsync();
        }

        await _app.StopAsync(cancellationToken);
        await _app.DisposeAsync();
        _webhookClient?.Dispose();
        _app = null;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    private static void Validate(SimulatorOptions options)
    {
        if (options.Twilio.AccountSid is not { Length: 34 } sid || !sid.StartsWith("AC", StringComparison.Ordinal))
        {
            throw new ArgumentException("Simulator:Twilio:AccountSid must be AC followed by 32 hex digits.", nameof(options));
        }

        if (string.IsNullOrEmpty(options.Twilio.AuthToken))
        {
            throw new ArgumentException("Simulator:Twilio:AuthToken is required.", nameof(options));
        }

        if (string.IsNullOrEmpty(options.Telnyx.ApiKey))
        {
            throw new ArgumentException("Simulator:Telnyx:ApiKey is required.", nameof(options));
        }

        if (options.Twilio.DefaultRetryCount is < 0 or > 5)
        {
            throw new ArgumentException("Simulator:Twilio:DefaultRetryCount must be 0 to 5, as Twilio's rc.", nameof(options));
        }

        if (options.Telnyx.DeliveryAttempts < 1)
        {
            throw new ArgumentException("Simulator:Telnyx:DeliveryAttempts must be at least 1.", nameof(options));
        }

        if (options.Telnyx.WebhookUrl is { } url && !Uri.TryCreate(url, UriKind.Absolute, out _))
        {
            throw new ArgumentException("Simulator:Telnyx:WebhookUrl must be an absolute URL.", nameof(options));
        }

        if (options.WebhookTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("Simulator:WebhookTimeout must be positive.", nameof(options));
        }
    }

    private static byte[] DecodeSeed(string base64)
    {
        var seed = new byte[64];
        if (!Convert.TryFromBase64String(base64, seed, out var written) || written != 32)
        {
            throw new ArgumentException("Simulator:Telnyx:SigningKeySeed must be base64 of a 32-byte Ed25519 private key.");
        }

        return seed[..32];
    }
}
