using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Sinks.Recording;
using VoiceKraliki.ServiceDefaults.Http;
using static VoiceKraliki.MediaBridge.Tests.Sinks.Streams;

namespace VoiceKraliki.MediaBridge.Tests.Sinks.Recording;

/// <summary>
/// Recording:Policy=Compliance as media-bridge runs it (service discovery and the resilience pipeline included), against
/// real sockets that fail: nothing listening, a server that never answers, one that answers with an error or with
/// something that is not JSON. Every one of them means no recording. The answers of the real compliance service are
/// covered by the whole-system tests (RecordingConsentTests).
/// </summary>
public sealed class ComplianceRecordingPolicyTests
{
    private const string ApiKey = "media-bridge-service-key-0123456789";

    private static readonly Dictionary<string, string> Parties = new() { ["from"] = "+4930901820", ["to"] = "+12125550147" };

    [Theory]
    [InlineData(null, null)]
    [InlineData("+4930901820", null)]
    [InlineData(null, "+12125550147")]
    [InlineData("client:alice", "+12125550147")]
    [InlineData("+4930901820", "sip:bob@example.com")]
    [InlineData("4930901820", "+12125550147")]
    [InlineData("+04930901820", "+12125550147")]
    [InlineData("+1234567", "+12125550147")]
    public async Task A_stream_without_two_e164_parties_is_not_recorded_and_compliance_is_not_asked(string? from, string? to)
    {
        await using var compliance = await StubCompliance.StartAsync(_ => Results.Ok(new { allowed = true, basis = "should not be asked" }));
        using var host = Build(compliance.Url);
        var parameters = new Dictionary<string, string>();
        if (from is not null)
        {
            parameters["from"] = from;
        }

        if (to is not null)
        {
            parameters["to"] = to;
        }

        var decision = await Policy(host).DecideAsync(Info(parameters: parameters), CancellationToken.None);

        Assert.False(decision.Allowed);
        Assert.Equal("no-parties", decision.Basis);
        Assert.Equal(0, compliance.Requests);
    }

    [Fact]
    public async Task Compliance_unreachable_means_no_recording_and_a_warning_without_the_numbers()
    {
        using var host = Build(ClosedPort());

        var decision = await Policy(host).DecideAsync(Info(parameters: Parties), CancellationToken.None);

        Assert.False(decision.Allowed);
        Assert.Equal("compliance-unavailable", decision.Basis);
        var warning = Assert.Single(Logs(host), l => l.Level == LogLevel.Warning && l.Category.EndsWith(nameof(ComplianceRecordingPolicy), StringComparison.Ordinal));
        Assert.Contains("(+******1820 to +*******0147)", warning.Message, StringComparison.Ordinal);
        // Nothing logged anywhere (the HTTP client's own logging included) names a number or the key.
        Assert.All(Logs(host), log =>
        {
            Assert.DoesNotContain("30901820", log.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("5550147", log.Message, StringComparison.Ordinal);
            Assert.DoesNotContain(ApiKey, log.Message, StringComparison.Ordinal);
        });
    }

    [Fact]
    public async Task Compliance_that_does_not_answer_in_time_means_no_recording_within_the_timeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(16);
        var accepted = new ConcurrentBag<Socket>();
        _ = Task.Run(async () =>
        {
            // Accepts connections and reads nothing, answers nothing.
            while (true)
            {
                accepted.Add(await silent.AcceptSocketAsync());
            }
        });
        using var host = Build(new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}"), timeout: "00:00:00.5");

        var watch = Stopwatch.StartNew();
        var decision = await Policy(host).DecideAsync(Info(parameters: Parties), CancellationToken.None);

        Assert.Equal(new RecordingDecision(false, "compliance-unavailable", decision.Reason), decision);
        Assert.Contains("did not answer within 0.5 s", decision.Reason, StringComparison.Ordinal);
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(0.4), TimeSpan.FromSeconds(3));
        Assert.NotEmpty(accepted);
        foreach (var socket in accepted)
        {
            socket.Dispose();
        }
    }

    [Theory]
    [InlineData(500)]
    [InlineData(401)]
    [InlineData(403)]
    [InlineData(503)]
    public async Task Compliance_answering_with_an_error_means_no_recording(int status)
    {
        await using var compliance = await StubCompliance.StartAsync(_ => Results.StatusCode(status));
        using var host = Build(compliance.Url);

        var decision = await Policy(host).DecideAsync(Info(parameters: Parties), CancellationToken.None);

        Assert.False(decision.Allowed);
        Assert.Equal("compliance-unavailable", decision.Basis);
        Assert.Contains($"answered {status}", decision.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"basis\":\"no allowed field\"}")]
    [InlineData("{\"allowed\":\"yes\"}")]
    [InlineData("[true]")]
    public async Task An_unreadable_answer_means_no_recording(string body)
    {
        await using var compliance = await StubCompliance.StartAsync(_ => Results.Text(body, "application/json"));
        using var host = Build(compliance.Url);

        var decision = await Policy(host).DecideAsync(Info(parameters: Parties), CancellationToken.None);

        Assert.False(decision.Allowed);
        Assert.Equal("compliance-unavailable", decision.Basis);
    }

    [Theory]
    [InlineData(true, "compliance")]
    [InlineData(false, "compliance-denied")]
    public async Task The_answer_decides_with_compliances_basis_and_the_question_names_both_parties_with_the_key(bool allowed, string basis)
    {
        await using var compliance = await StubCompliance.StartAsync(_ => Results.Ok(new { allowed, announcementRequired = true, basis = "the basis" }));
        using var host = Build(compliance.Url);

        var decision = await Policy(host).DecideAsync(Info(parameters: Parties), CancellationToken.None);

        Assert.Equal(new RecordingDecision(allowed, basis, "the basis"), decision);
        var request = Assert.Single(compliance.Seen);
        Assert.Equal("/api/compliance/decisions/recording?from=%2B4930901820&to=%2B12125550147", request.PathAndQuery);
        Assert.Equal(ApiKey, request.ApiKey);
    }

    [Fact]
    public async Task A_number_compliance_refuses_counts_as_no_parties()
    {
        await using var compliance = await StubCompliance.StartAsync(_ =>
            Results.ValidationProblem(new Dictionary<string, string[]> { ["from"] = ["Unassigned country calling code."] }));
        using var host = Build(compliance.Url);

        var decision = await Policy(host).DecideAsync(Info(parameters: Parties), CancellationToken.None);

        Assert.False(decision.Allowed);
        Assert.Equal("no-parties", decision.Basis);
    }

    [Fact]
    public async Task The_other_modes_do_not_ask_compliance()
    {
        await using var compliance = await StubCompliance.StartAsync(_ => Results.Ok(new { allowed = false, basis = "no" }));
        using var host = Build(compliance.Url, policy: "Allow");

        var decision = await Policy(host).DecideAsync(Info(parameters: Parties), CancellationToken.None);

        Assert.Equal("configured-allow", decision.Basis);
        Assert.Equal(0, compliance.Requests);
    }

    [Theory]
    [InlineData(null, "00:00:02", "Recording:ComplianceApiKey")]
    [InlineData(" ", "00:00:02", "Recording:ComplianceApiKey")]
    [InlineData(ApiKey, "00:00:00", "Recording:ComplianceTimeout")]
    [InlineData(ApiKey, "00:00:05", "Recording:ComplianceTimeout")]
    public async Task Compliance_mode_without_a_key_or_with_a_bad_timeout_stops_the_service_at_start_naming_the_key(string? key, string timeout, string named)
    {
        using var host = Build(ClosedPort(), timeout: timeout, apiKey: key);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Masking_keeps_only_the_last_four_digits()
    {
        Assert.Equal("+*******0147", ComplianceRecordingPolicy.Mask("+12125550147"));
        Assert.Equal("+******1820", ComplianceRecordingPolicy.Mask("+4930901820"));
        Assert.Equal("123", ComplianceRecordingPolicy.Mask("123"));
    }

    private static IRecordingPolicy Policy(IHost host) => host.Services.GetRequiredService<IRecordingPolicy>();

    private static IReadOnlyList<CapturedLog> Logs(IHost host) => [.. host.Services.GetRequiredService<CapturingLoggerProvider>().Logs];

    /// <summary>media-bridge's recording policy as AddMediaSinks registers it, with the discovery and resilience every service has.</summary>
    private static IHost Build(Uri compliance, string timeout = "00:00:02", string policy = "Compliance", string? apiKey = ApiKey)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production", DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Recording:Policy"] = policy,
            ["Recording:ComplianceApiKey"] = apiKey,
            ["Recording:ComplianceTimeout"] = timeout,
            ["Recording:Directory"] = Path.Combine(Path.GetTempPath(), "vk-unused"),
            ["services:compliance:http:0"] = compliance.ToString().TrimEnd('/'),
            ["HttpResilience:RetryBaseDelay"] = "00:00:00.05",
        });
        var logs = new CapturingLoggerProvider();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Services.AddSingleton(logs);
        builder.Services.AddServiceDiscoveryAndResilience();
        builder.AddMediaSinks();
        return builder.Build();
    }

    /// <summary>A loopback port with nothing listening on it.</summary>
    private static Uri ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}");
    }

    private sealed record SeenRequest(string PathAndQuery, string? ApiKey);

    /// <summary>A server on loopback that answers every request as it is told (to make compliance fail in each way).</summary>
    private sealed class StubCompliance : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private StubCompliance(WebApplication app) => _app = app;

        public ConcurrentQueue<SeenRequest> Seen { get; } = new();

        public int Requests => Seen.Count;

        public Uri Url { get; private set; } = null!;

        public static async Task<StubCompliance> StartAsync(Func<HttpContext, IResult> answer)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var stub = new StubCompliance(app);
            app.Run(async context =>
            {
                stub.Seen.Enqueue(new SeenRequest(context.Request.Path + context.Request.QueryString, context.Request.Headers["X-Api-Key"].FirstOrDefault()));
                await answer(context).ExecuteAsync(context);
            });
            await app.StartAsync();
            stub.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return stub;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }

    private sealed record CapturedLog(string Category, LogLevel Level, string Message);

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<CapturedLog> Logs { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider provider, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                provider.Logs.Enqueue(new CapturedLog(category, logLevel, formatter(state, exception)));
        }
    }
}
