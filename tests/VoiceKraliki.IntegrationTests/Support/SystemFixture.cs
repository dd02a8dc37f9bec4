using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Npgsql;
using VoiceKraliki.AppHost;
using VoiceKraliki.AppHost.Testing;
using VoiceKraliki.Telephony.Signatures;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace VoiceKraliki.IntegrationTests.Support;

/// <summary>
/// The whole application (nine resources, call-state with two replicas), started once in process by
/// the AppHost's testing builder: real PostgreSQL, Redis, RabbitMQ and the six services as processes.
/// </summary>
public sealed class SystemFixture(IMessageSink diagnostics) : IAsyncLifetime
{
    public static readonly string[] Services =
        [AppModel.GatewayName, AppModel.WebhookIngressName, AppModel.MediaBridgeName, AppModel.CallStateName, AppModel.ComplianceName, AppModel.AlertingName];

    /// <summary>The Twilio auth token the system is configured with (tests sign webhooks with it).</summary>
    public const string TwilioAuthToken = "it-twilio-auth-token-0123456789abcdef";

    /// <summary>A Telnyx signing key generated for the run; its public half is the system's Telnyx key.</summary>
    public static readonly TelnyxWebhookSigner TelnyxSigner = TelnyxWebhookSigner.Generate();

    /// <summary>The media-stream token key the system is configured with (tests issue stream tokens with it).</summary>
    public static readonly byte[] StreamTokenKey = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>
    /// Where media-bridge writes recordings. Recording:Policy=Compliance: a stream is recorded when compliance allows its
    /// parties (two numbers in US one-party states need nothing; an EU number needs its consent on file).
    /// </summary>
    public string RecordingDirectory { get; } = Directory.CreateTempSubdirectory("vk-it-recordings-").FullName;

    /// <summary>Error lines the resources printed, with the resource's name.</summary>
    public ConcurrentQueue<string> ErrorLines { get; } = new();

    public Uri Gateway => App.GatewayEndpoint ?? throw new InvalidOperationException("The gateway has no endpoint.");

    public async Task InitializeAsync()
    {
        App = await DistributedApplicationTestingBuilder.CreateAsync(new TestingOptions
        {
            GatewayPort = 0,
            Replicas = { [AppModel.CallStateName] = 2 },
            Configuration =
            {
                ["Telephony:Twilio:AccountSid"] = "AC00000000000000000000000000000001",
                ["Telephony:Twilio:AuthToken"] = TwilioAuthToken,
                ["Telephony:Telnyx:PublicKey"] = TelnyxSigner.PublicKeyBase64,
                ["Webhooks:Voice:StreamTokenSigningKey"] = Convert.ToBase64String(StreamTokenKey),
                ["MediaStreams:TokenSigningKey"] = Convert.ToBase64String(StreamTokenKey),
                ["Recording:Policy"] = "Compliance",
                // The AppHost hands media-bridge its generated service key for compliance. The first decisions meet a
                // cold compliance on the two cores that run the whole system, so they get the longest time allowed.
                ["Recording:ComplianceTimeout"] = "00:00:04",
                ["Recording:Directory"] = RecordingDirectory,
                // Test agents listen on loopback; a stream names its agent with the agentUrl parameter.
                ["Agent:AllowedHosts:0"] = "127.0.0.1",
                // Alerting evaluates four times a second and tells a new group at once; the webhook failure rate looks
                // back 10 s, so a burst of failures fires and, once over, resolves within a test's patience.
                ["Alerting:EvaluationInterval"] = "00:00:00.250",
                ["Alerting:Notifications:Route:GroupWait"] = "00:00:00",
                ["Alerting:Notifications:Route:GroupInterval"] = "00:00:02",
                ["Alerting:Signals:Windows:webhook_failure_rate"] = "00:00:10",
            },
            ErrorLineSink = (resource, line) => ErrorLines.Enqueue($"{resource}: {line}"),
        });
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await App.StartAsync(timeout.Token);
            diagnostics.OnMessage(new DiagnosticMessage($"All resources healthy in {App.StartupDuration?.TotalSeconds:F1} s."));
        }
        catch (Exception e)
        {
            var states = Describe();
            await App.DisposeAsync();
            throw new InvalidOperationException($"The application did not start ({states}); errors: {string.Join(" | ", ErrorLines.Take(20))}", e);
        }
    }

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        Directory.Delete(RecordingDirectory, recursive: true);
    }

    /// <summary>What a service has logged so far (all its replicas), from the AppHost's log files.</summary>
    public string ServiceLog(string service)
    {
        var logs = Path.Combine(App.StateDirectory, "logs");
        return string.Concat(Directory.EnumerateFiles(logs, service + "*.log").Order(StringComparer.Ordinal).Select(path =>
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(file);
            return reader.ReadToEnd();
        }));
    }

    /// <summary>
    /// An open connection to one of the system's databases (e.g. <c>postgres-call-state</c>), not pooled: other tests
    /// restart Postgres, and a pooled connection from before the restart would fail its first command.
    /// </summary>
    public async Task<NpgsqlConnection> OpenDatabaseAsync(string name)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(App.GetConnectionString(name)) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public string Describe() => string.Join("; ", App.GetResources().Select(r => $"{r.Name}: {r.State} {r.Message}"));

    public HttpClient CreateClient(Uri baseAddress, string? apiKey = null, string? bearer = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = baseAddress,
            Timeout = TimeSpan.FromSeconds(20),
        };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        if (bearer is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return client;
    }

    /// <summary>Polls <c>GET /health</c> of every replica of a service until it answers <paramref name="expected"/>.</summary>
    public async Task<TimeSpan> WaitForHealthAsync(string service, HttpStatusCode expected, TimeSpan within, string? expectedStatus = null)
    {
        var started = TimeProvider.System.GetTimestamp();
        var replicas = App.GetResource(service).Replicas.Count;
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        var last = "no answer";
        while (TimeProvider.System.GetElapsedTime(started) < within)
        {
            var all = true;
            for (var i = 0; i < replicas; i++)
            {
                try
                {
                    using var response = await client.GetAsync(new Uri(App.GetEndpoint(service, i), "/health"));
                    var body = await response.Content.ReadAsStringAsync();
                    last = $"{(int)response.StatusCode} {body}";
                    all &= response.StatusCode == expected
                           && (expectedStatus is null || body.StartsWith($"{{\"status\":\"{expectedStatus}\"", StringComparison.Ordinal));
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    last = e.Message;
                    all = false;
                }
            }

            if (all)
            {
                return TimeProvider.System.GetElapsedTime(started);
            }

            await Task.Delay(250);
        }

        throw new XunitException($"{service} /health did not answer {(int)expected} within {within.TotalSeconds} s; last: {last}");
    }
}

[CollectionDefinition(Name)]
public sealed class SystemCollection : ICollectionFixture<SystemFixture>
{
    public const string Name = "Whole system";
}
