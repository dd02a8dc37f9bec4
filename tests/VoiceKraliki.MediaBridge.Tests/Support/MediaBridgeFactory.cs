using System.Net;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.Telephony.Media;

namespace VoiceKraliki.MediaBridge.Tests.Support;

/// <summary>
/// The real media-bridge <c>Program</c> on Kestrel on a free loopback port (real sockets: real close handshakes,
/// keep-alive and TCP backpressure). The broker address points at a closed port unless a test gives a real one:
/// the bus never connects, which most tests do not need (/health says 503; events are dropped after their timeout).
/// </summary>
public sealed class MediaBridgeFactory : WebApplicationFactory<Program>
{
    /// <summary>The stream-token key the service is given (base64 of these 38 bytes).</summary>
    public static readonly byte[] TokenKey = Encoding.UTF8.GetBytes("a media-bridge test key of 32+ bytes..");

    private readonly Dictionary<string, string?> _settings = new()
    {
        ["ConnectionStrings:messaging"] = "amqp://guest:guest@127.0.0.1:1",
        ["MediaStreams:MaxMessageBytes"] = "2048",
        ["MediaStreams:TokenSigningKey"] = Convert.ToBase64String(TokenKey),
        ["MediaStreams:PublishTimeout"] = "00:00:01",
    };

    private readonly Action<IServiceCollection>? _configureServices;

    public MediaBridgeFactory(IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configureServices = null)
    {
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        _configureServices = configureServices;
        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
    }

    /// <summary>Issues tokens with the service's key and the real clock, as webhook-ingress does.</summary>
    public static StreamTokenService Tokens { get; } = new(TokenKey, TimeProvider.System);

    public static string TokenFor(TelephonyProvider provider, string callId, TimeSpan? lifetime = null, string? sessionId = null) =>
        Tokens.Issue(provider, callId, sessionId, lifetime ?? TimeSpan.FromMinutes(5));

    public int MaxMessageBytes => int.Parse(_settings["MediaStreams:MaxMessageBytes"]!);

    public Uri Address
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
            return new Uri(addresses.Single());
        }
    }

    public Uri WebSocketUri(string path, string? query = null) =>
        new UriBuilder(Address) { Scheme = "ws", Path = path, Query = query ?? string.Empty }.Uri;

    public HttpClient CreateSocketClient() => new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(20) };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.ClearProviders());
        if (_configureServices is not null)
        {
            builder.ConfigureTestServices(_configureServices);
        }
    }
}

public sealed class MediaBridgeFixture : IAsyncLifetime
{
    public TestSinks Sinks { get; } = new();

    public MediaBridgeFactory Factory { get; }

    public MediaBridgeFixture()
    {
        Factory = new MediaBridgeFactory(configureServices: services =>
        {
            foreach (var factory in Sinks.Factories())
            {
                services.AddSingleton(factory);
            }
        });
    }

    public Task InitializeAsync()
    {
        _ = Factory.Address;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}
