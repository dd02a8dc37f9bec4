using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VoiceKraliki.ServiceDefaults.Redis;
using VoiceKraliki.WebhookIngress.Security;

namespace VoiceKraliki.WebhookIngress.Tests.Security;

/// <summary>The security layers as the service registers them, in a host of their own (one per "replica").</summary>
internal sealed class SecurityHost : IDisposable
{
    private readonly IHost _host;

    private SecurityHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public LogCollector Logs => _host.Services.GetRequiredService<LogCollector>();

    public WebhookRateLimiter RateLimiter => Services.GetRequiredService<WebhookRateLimiter>();

    public ReplayGuard ReplayGuard => Services.GetRequiredService<ReplayGuard>();

    /// <summary>A started host whose Redis connection is open, as it is shortly after a replica boots.</summary>
    public static async Task<SecurityHost> StartAsync(string redisConnectionString, TimeProvider? time = null, IDictionary<string, string?>? settings = null)
    {
        var host = Build(redisConnectionString, time, settings);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(timeout.Token);
        await host.Services.GetRequiredService<IRedisStore>().PingAsync(timeout.Token);
        return new SecurityHost(host);
    }

    public static IHost Build(string redisConnectionString, TimeProvider? time = null, IDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Test" });
        var configuration = new Dictionary<string, string?> { ["ConnectionStrings:redis"] = redisConnectionString };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        var logs = new LogCollector();
        builder.Services.AddSingleton(logs);
        builder.Logging.AddProvider(logs);
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.AddRedis();
        builder.AddWebhookSecurity();
        return builder.Build();
    }

    public async Task<HealthReportEntry> CheckHealthAsync()
    {
        var report = await Services.GetRequiredService<HealthCheckService>()
            .CheckHealthAsync(r => r.Name == WebhookSecurityHealthCheck.Name);
        return report.Entries[WebhookSecurityHealthCheck.Name];
    }

    public void Dispose() => _host.Dispose();
}

/// <summary>A clock that moves only when told; timers stay real so timeouts still fire.</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    /// <summary>A minute boundary, so that the rate limiter's buckets line up with the test's arithmetic.</summary>
    public static readonly DateTimeOffset MinuteBoundary = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private long _utcTicks = start.UtcTicks;

    public ManualClock()
        : this(MinuteBoundary)
    {
    }

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _utcTicks, by.Ticks);
}

/// <summary>Client addresses no other test uses (198.18.0.0/15 is reserved for benchmarking).</summary>
internal static class TestAddresses
{
    private static int _next;

    public static IPAddress Next()
    {
        var n = Interlocked.Increment(ref _next);
        return new IPAddress([198, (byte)(18 + (n >> 16 & 1)), (byte)(n >> 8), (byte)n]);
    }
}

internal sealed class LogCollector : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Entries => [.. _entries];

    public int Count(string fragment) => Entries.Count(e => e.Message.Contains(fragment, StringComparison.Ordinal));

    public int CountStartingWith(string prefix) => Entries.Count(e => e.Message.StartsWith(prefix, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogCollector collector) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            collector._entries.Enqueue((logLevel, formatter(state, exception)));
    }
}

internal static class RedisStoreExtensions
{
    public static async Task<string?> ReadAsync(this RedisFixture fixture, string key)
    {
        using var store = new RedisStore(fixture.ConnectionString);
        return await store.GetAsync(key);
    }
}
