extern alias apphost;
extern alias ingress;

using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using StackExchange.Redis;
using VoiceKraliki.Telephony.Signatures;
using apphost::VoiceKraliki.AppHost;
using apphost::VoiceKraliki.AppHost.Testing;
using IngressProgram = ingress::Program;
using ReplayGuard = ingress::VoiceKraliki.WebhookIngress.Security.ReplayGuard;
using WebhookRateLimiter = ingress::VoiceKraliki.WebhookIngress.Security.WebhookRateLimiter;

namespace VoiceKraliki.Benchmarks;

/// <summary>
/// One provider webhook through the whole webhook-ingress service in process, per request: HttpClient →
/// TestServer → routing → <c>WebhooksApi</c> → <c>WebhookPipeline</c> (Redis rate-limit script, allowlist,
/// signature, parsing, Redis replay claim, RabbitMQ publish awaited until the broker confirms it) → answer.
/// Redis and RabbitMQ are the real ones the AppHost starts (InfrastructureOnly), as in the service's tests;
/// nothing is mocked. Each benchmark throws on an unexpected status, so a broken setup cannot make numbers,
/// and the cleanup prints what Redis and RabbitMQ saw (lines starting <c>// VERIFY</c>).
/// </summary>
/// <remarks>
/// The request bodies and their signatures are built in the setup (Twilio HMAC-SHA1 ~3 µs, Telnyx Ed25519
/// signing ~100 µs would otherwise be client cost in the numbers). What each invocation measures: a new
/// <see cref="HttpRequestMessage"/> around those bytes, the client handlers, TestServer, and everything the
/// service does, until the response is read. Allocations are the whole process's (server side, MassTransit
/// and the Redis/RabbitMQ clients included). Telnyx timestamps must be within 300 s of now, which a run of a
/// few minutes keeps; should a pool run out, requests are built inline and the cleanup says how many.
/// The host runs as Production with its console log provider off (its I/O would flood BenchmarkDotNet's
/// output); log messages are still formatted, by a provider that discards them.
/// </remarks>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class WebhookPipelineBenchmarks
{
    private const string TwilioAuthToken = "test-twilio-auth-token-0123456789";
    private const string TwilioAccountSid = "AC00000000000000000000000000000001";
    private const string PublicBaseUrl = "https://voice.example.com";
    private const string StatusPath = "/webhooks/twilio/status";
    private const string TelnyxPath = "/webhooks/telnyx";
    private const string FormMediaType = "application/x-www-form-urlencoded";
    private const string JsonMediaType = "application/json";

    // MassTransit's exchange for a message type is "{namespace}:{type name}".
    private const string CallEventExchange = "VoiceKraliki.Contracts:CallEventReceived";
    private const string RejectedExchange = "VoiceKraliki.Contracts:WebhookRejected";
    private const string CallEventQueue = "benchmark-call-events";
    private const string RejectedQueue = "benchmark-webhook-rejected";

    // This job invokes an "accepted" benchmark about 4k times (pilot, 3 warm-up and 10 measured iterations of a few
    // hundred): ample margin. A longer job signs the rest inline, and the cleanup says how many.
    private const int PoolSize = 20_000;

    private readonly TwilioRequestSigner _twilioSigner = new(TwilioAuthToken);
    private readonly TelnyxWebhookSigner _telnyxSigner = TelnyxWebhookSigner.Generate();
    private readonly string _run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private DistributedApplication? _infrastructure;
    private IngressFactory? _factory;
    private HttpClient _client = null!;
    private string _redis = "";
    private string _messaging = "";

    private SignedRequest?[] _twilioPool = [];
    private SignedRequest?[] _telnyxPool = [];
    private int _twilioNext;
    private int _telnyxNext;
    private long _sequence;
    private int _builtInline;

    private SignedRequest _duplicate = null!;
    private SignedRequest _forged = null!;

    private long _accepted;
    private long _duplicates;
    private long _rejected;
    private Baseline _baseline;

    // Each benchmark runs in its own process, with its own infrastructure; only the pool it uses is built.
    [GlobalSetup(Target = nameof(TwilioStatusCallbackAccepted))]
    public Task SetupTwilio() => SetupAsync(twilioPoolSize: PoolSize, telnyxPoolSize: 0);

    [GlobalSetup(Target = nameof(TelnyxCallAnsweredAccepted))]
    public Task SetupTelnyx() => SetupAsync(twilioPoolSize: 0, telnyxPoolSize: PoolSize);

    [GlobalSetup(Targets = new[] { nameof(TwilioDuplicate), nameof(TwilioForgedSignature) })]
    public Task Setup() => SetupAsync(twilioPoolSize: 0, telnyxPoolSize: 0);

    private async Task SetupAsync(int twilioPoolSize, int telnyxPoolSize)
    {
        try
        {
            await StartAsync(twilioPoolSize, telnyxPoolSize);
        }
        catch
        {
            // A failed setup must not leave Redis and RabbitMQ running (DisposeAsync may run again in the cleanup).
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync(int twilioPoolSize, int telnyxPoolSize)
    {
        _infrastructure = await DistributedApplicationTestingBuilder.StartInfrastructureAsync();

        _redis = _infrastructure.GetConnectionString("redis");
        _messaging = _infrastructure.GetConnectionString("messaging");

        _factory = new IngressFactory(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = _redis,
            ["ConnectionStrings:messaging"] = _messaging,
            ["Auth:ApiKeys:0:Key"] = "vk_test_0123456789abcdef0123456789",
            ["Auth:ApiKeys:0:Roles"] = "admin",
            ["Telephony:PublicBaseUrl"] = PublicBaseUrl,
            ["Telephony:Twilio:AccountSid"] = TwilioAccountSid,
            ["Telephony:Twilio:AuthToken"] = TwilioAuthToken,
            ["Telephony:Telnyx:PublicKey"] = _telnyxSigner.PublicKeyBase64,
            ["Webhooks:Voice:StreamTokenSigningKey"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("a test key of at least thirty-two bytes")),
            // TestServer has no peer address (IPAddress.None): let it through the Telnyx allowlist.
            ["WebhookSecurity:Allowlist:Telnyx:0"] = "0.0.0.0/0",
            // Every request comes from that one address; the limits (their validated maximums) must never trip,
            // while the rate-limit scripts still run in Redis for every request.
            ["WebhookSecurity:RateLimit:FailedPerMinute"] = "100000",
            ["WebhookSecurity:RateLimit:TotalPerMinute"] = "10000000",
        });
        // WebApplicationFactory looks for its content root in an MvcTestingAppManifest.json in the working folder,
        // which BenchmarkDotNet's generated host does not run from; this setting comes first. The service has no
        // content files, so its build output will do.
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_VOICEKRALIKI_WEBHOOKINGRESS", AppContext.BaseDirectory);
        _client = _factory.CreateClient();

        // The requests (see the remarks): unique Twilio status callbacks and Telnyx events, one repeat, one forgery.
        _twilioPool = new SignedRequest?[twilioPoolSize];
        for (var i = 0; i < _twilioPool.Length; i++)
        {
            _twilioPool[i] = NewTwilioStatusCallback();
        }

        _telnyxPool = new SignedRequest?[telnyxPoolSize];
        for (var i = 0; i < _telnyxPool.Length; i++)
        {
            _telnyxPool[i] = NewTelnyxCallAnswered();
        }

        _duplicate = NewTwilioStatusCallback();
        var forgedFields = StatusFields(NewCallSid(), "ringing", 1);
        _forged = new SignedRequest(StatusPath, Encoding.UTF8.GetBytes(FormBody.Encode(forgedFields)), FormMediaType,
            [new(TwilioSignature.HeaderName, Convert.ToBase64String(RandomNumberGenerator.GetBytes(20)))]);

        // Warm-up: connections to Redis and RabbitMQ, the exchanges MassTransit declares, JIT of every path.
        for (var i = 0; i < 20; i++)
        {
            await SendAsync(NewTwilioStatusCallback(), Outcome.Accepted);
            await SendAsync(NewTelnyxCallAnswered(), Outcome.Accepted);
            await SendAsync(_forged, Outcome.Rejected);
        }

        await SendAsync(_duplicate, Outcome.Accepted);
        await SendAsync(_duplicate, Outcome.Duplicate);

        // Queues bound like a consumer's (durable, so each confirm waits for a routed, persisted message), to count
        // what reached the broker.
        await using (var connection = await NewBrokerConnectionAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            foreach (var (exchange, queue) in new[] { (CallEventExchange, CallEventQueue), (RejectedExchange, RejectedQueue) })
            {
                await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
                await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
                await channel.QueueBindAsync(queue, exchange, routingKey: string.Empty);
            }
        }

        // One more of each through the bound queues: the bindings must catch them.
        var before = await SnapshotAsync();
        await SendAsync(NewTwilioStatusCallback(), Outcome.Accepted);
        await SendAsync(_forged, Outcome.Rejected);
        await WaitForAsync(async () => await SnapshotAsync() is var now && now.CallEvents == before.CallEvents + 1 && now.Rejections > before.Rejections,
            "The warm-up's event and rejection did not reach the bound queues.");

        // Rejections are published off the request path: let the warm-up's settle before taking the baseline.
        _baseline = await SnapshotAsync();
        for (var previous = default(Baseline); _baseline != previous;)
        {
            previous = _baseline;
            await Task.Delay(300);
            _baseline = await SnapshotAsync();
        }

        _builtInline = 0;
        _accepted = _duplicates = _rejected = 0;
    }

    /// <summary>A new signed status callback (unique CallSid): rate limit, signature, parse, replay claim, publish + confirm → 204.</summary>
    [Benchmark]
    public Task TwilioStatusCallbackAccepted() =>
        SendAsync(Take(_twilioPool, ref _twilioNext, NewTwilioStatusCallback), Outcome.Accepted);

    /// <summary>A new signed call.answered (unique data.id): rate limit, allowlist, Ed25519, parse, replay claim, publish + confirm → 204.</summary>
    [Benchmark]
    public Task TelnyxCallAnsweredAccepted() =>
        SendAsync(Take(_telnyxPool, ref _telnyxNext, NewTelnyxCallAnswered), Outcome.Accepted);

    /// <summary>The same signed callback again: rate limit, signature, parse, replay claim lost → 204, nothing published.</summary>
    [Benchmark]
    public Task TwilioDuplicate() => SendAsync(_duplicate, Outcome.Duplicate);

    /// <summary>A bad signature: rate limit, signature fails, failure counted in Redis, WebhookRejected queued → 403.</summary>
    [Benchmark]
    public Task TwilioForgedSignature() => SendAsync(_forged, Outcome.Rejected);

    [GlobalCleanup]
    public async Task Cleanup()
    {
        try
        {
            if (_factory is not null && _infrastructure is not null)
            {
                await VerifyAsync();
            }
        }
        finally
        {
            await DisposeAsync();
        }
    }

    private async Task DisposeAsync()
    {
        _client?.Dispose();
        _client = null!;
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
            _factory = null;
        }

        if (_infrastructure is not null)
        {
            await _infrastructure.DisposeAsync();
            _infrastructure = null;
        }
    }

    private async Task SendAsync(SignedRequest signed, Outcome outcome)
    {
        var expected = outcome == Outcome.Rejected ? HttpStatusCode.Forbidden : HttpStatusCode.NoContent;
        using var request = new HttpRequestMessage(HttpMethod.Post, signed.Path)
        {
            Content = new ByteArrayContent(signed.Body) { Headers = { ContentType = new(signed.MediaType) } },
        };
        foreach (var (name, value) in signed.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await _client.SendAsync(request);
        if (response.StatusCode != expected)
        {
            var detail = await response.Content.ReadAsStringAsync();
            throw new InvalidOperationException($"{signed.Path} answered {(int)response.StatusCode}, expected {(int)expected}: {detail}");
        }

        // One request at a time: BenchmarkDotNet awaits each invocation.
        switch (outcome)
        {
            case Outcome.Accepted:
                _accepted++;
                break;
            case Outcome.Duplicate:
                _duplicates++;
                break;
            default:
                _rejected++;
                break;
        }
    }

    private SignedRequest Take(SignedRequest?[] pool, ref int next, Func<SignedRequest> build)
    {
        var index = next++;
        if (index < pool.Length && pool[index] is { } pooled)
        {
            pool[index] = null;
            return pooled;
        }

        _builtInline++;
        return build();
    }

    private SignedRequest NewTwilioStatusCallback()
    {
        var fields = StatusFields(NewCallSid(), "ringing", 1);
        return new SignedRequest(StatusPath, Encoding.UTF8.GetBytes(FormBody.Encode(fields)), FormMediaType,
            [new(TwilioSignature.HeaderName, _twilioSigner.Sign(PublicBaseUrl + StatusPath, fields))]);
    }

    private SignedRequest NewTelnyxCallAnswered()
    {
        var now = DateTimeOffset.UtcNow;
        var body = TelnyxBody("v3:" + NextId(), "call.answered", Guid.NewGuid(), now);
        var (signature, timestamp) = _telnyxSigner.Sign(body, now);
        return new SignedRequest(TelnyxPath, body, JsonMediaType,
            [new(TelnyxSignatureVerifier.SignatureHeader, signature), new(TelnyxSignatureVerifier.TimestampHeader, timestamp)]);
    }

    private string NewCallSid() => "CA" + NextId();

    /// <summary>32 hex digits, unique in this run.</summary>
    private string NextId() => _run + Interlocked.Increment(ref _sequence).ToString("x16", CultureInfo.InvariantCulture);

    private static KeyValuePair<string, string>[] StatusFields(string callSid, string status, int sequence) =>
    [
        new("AccountSid", TwilioAccountSid), new("ApiVersion", "2010-04-01"), new("CallSid", callSid),
        new("CallStatus", status), new("Direction", "inbound"), new("From", "+15005550006"), new("To", "+15005550001"),
        new("SequenceNumber", sequence.ToString(CultureInfo.InvariantCulture)),
        new("Timestamp", "Mon, 23 Nov 2026 10:00:00 +0000"), new("CallbackSource", "call-progress-events"),
    ];

    private static byte[] TelnyxBody(string callControlId, string eventType, Guid id, DateTimeOffset at) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        data = new
        {
            record_type = "event",
            event_type = eventType,
            id = id.ToString(),
            occurred_at = at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
            payload = new
            {
                call_control_id = callControlId,
                call_leg_id = Guid.NewGuid().ToString(),
                call_session_id = Guid.NewGuid().ToString(),
                connection_id = "1494404757140276705",
                from = "+15005550006",
                to = "+15005550001",
                direction = "incoming",
                state = "answered",
            },
        },
    });

    /// <summary>Prints, and checks, what Redis and RabbitMQ saw during the measured invocations.</summary>
    private async Task VerifyAsync()
    {
        var requests = _accepted + _duplicates + _rejected;
        var services = _factory!.Services;
        var rateLimiterFallback = services.GetRequiredService<WebhookRateLimiter>().UsingFallback;
        var replayFallback = services.GetRequiredService<ReplayGuard>().UsingFallback;

        // Rejections are published off the request path: give the last ones a moment.
        var end = await SnapshotAsync();
        for (var i = 0; i < 50 && end.Rejections < _baseline.Rejections + _rejected; i++)
        {
            await Task.Delay(100);
            end = await SnapshotAsync();
        }

        var scripts = end.ScriptCalls - _baseline.ScriptCalls;
        var sets = end.SetCalls - _baseline.SetCalls;
        var events = end.CallEvents - _baseline.CallEvents;
        var rejections = end.Rejections - _baseline.Rejections;
        Console.WriteLine($"// VERIFY requests answered as expected: {requests} (accepted: {_accepted}, duplicates: {_duplicates}, rejected: {_rejected}; "
                          + $"signed inline, not from the pool: {_builtInline})");
        Console.WriteLine($"// VERIFY Redis: EVAL/EVALSHA calls {scripts}, SET calls {sets}, keys now {end.RedisKeys}; in-memory fallback: rate limiter {rateLimiterFallback}, replay guard {replayFallback}");
        Console.WriteLine($"// VERIFY RabbitMQ: CallEventReceived messages routed to {CallEventQueue}: {events}; WebhookRejected routed to {RejectedQueue}: {rejections}");

        var problems = new List<string>();
        if (requests == 0)
        {
            problems.Add("no request was measured");
        }

        if (rateLimiterFallback || replayFallback || scripts < requests)
        {
            problems.Add($"Redis was not used for every request ({scripts} scripts for {requests} requests)");
        }

        if (sets < _accepted + _duplicates)
        {
            problems.Add($"{_accepted + _duplicates} replay claims but {sets} SET calls in Redis");
        }

        if (events != _accepted)
        {
            problems.Add($"{_accepted} webhooks were accepted but {events} CallEventReceived reached RabbitMQ");
        }

        Console.WriteLine(problems.Count == 0 ? "// VERIFY OK" : "// VERIFY FAILED: " + string.Join("; ", problems));
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("The measured requests did not go through Redis and RabbitMQ as expected: " + string.Join("; ", problems));
        }
    }

    private async Task<Baseline> SnapshotAsync()
    {
        var options = ConfigurationOptions.Parse(_redis);
        options.AllowAdmin = true;
        using var redis = await ConnectionMultiplexer.ConnectAsync(options);
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var stats = (await server.InfoAsync("commandstats")).SelectMany(group => group).ToDictionary(e => e.Key, e => e.Value, StringComparer.OrdinalIgnoreCase);
        var keys = await server.DatabaseSizeAsync();

        await using var connection = await NewBrokerConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var callEvents = await MessageCountAsync(channel, CallEventQueue);
        var rejections = await MessageCountAsync(channel, RejectedQueue);

        return new Baseline(Calls(stats, "cmdstat_eval") + Calls(stats, "cmdstat_evalsha"), Calls(stats, "cmdstat_set"), keys, callEvents, rejections);
    }

    private static async Task<long> MessageCountAsync(IChannel channel, string queue)
    {
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
        {
            // Not declared yet (before the bindings exist).
            return 0;
        }
    }

    private static long Calls(Dictionary<string, string> stats, string command)
    {
        if (!stats.TryGetValue(command, out var value))
        {
            return 0;
        }

        // "calls=123,usec=456,usec_per_call=3.70,..."
        var calls = value.Split(',').First(part => part.StartsWith("calls=", StringComparison.Ordinal));
        return long.Parse(calls.AsSpan("calls=".Length), CultureInfo.InvariantCulture);
    }

    private Task<IConnection> NewBrokerConnectionAsync() =>
        new ConnectionFactory { Uri = new Uri(_messaging), ClientProvidedName = "benchmark-verification" }.CreateConnectionAsync();

    private static async Task WaitForAsync(Func<Task<bool>> condition, string failure)
    {
        for (var i = 0; i < 100; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException(failure);
    }

    private enum Outcome
    {
        Accepted,
        Duplicate,
        Rejected,
    }

    private readonly record struct Baseline(long ScriptCalls, long SetCalls, long RedisKeys, long CallEvents, long Rejections);

    private sealed record SignedRequest(string Path, byte[] Body, string MediaType, KeyValuePair<string, string>[] Headers);

    /// <summary>The webhook-ingress service with the settings of its tests' IngressHost.</summary>
    private sealed class IngressFactory(Dictionary<string, string?> settings) : WebApplicationFactory<IngressProgram>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            // BenchmarkDotNet reads the benchmark process's standard output: no console logging.
            builder.UseSetting("Logging:Console:LogLevel:Default", "None");
            builder.ConfigureLogging(logging => logging.AddProvider(new DiscardingLoggerProvider()));
        }

    }

    /// <summary>Formats every enabled message, as a real provider would, and writes it nowhere.</summary>
    private sealed class DiscardingLoggerProvider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => DiscardingLogger.Instance;

        public void Dispose()
        {
        }

        private sealed class DiscardingLogger : ILogger
        {
            public static readonly DiscardingLogger Instance = new();

            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                GC.KeepAlive(formatter(state, exception));
        }
    }
}
