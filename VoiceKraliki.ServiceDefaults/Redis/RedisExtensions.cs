using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.ServiceDefaults.Redis;

public static class RedisExtensions
{
    /// <summary>
    /// Registers <see cref="IRedisStore"/> for <c>ConnectionStrings__{connectionName}</c> (<c>host:port</c>) and a
    /// <c>redis</c> health check that reports <paramref name="failureStatus"/> while Redis is unreachable
    /// (<see cref="HealthStatus.Degraded"/> for a service that carries on without it).
    /// </summary>
    public static TBuilder AddRedis<TBuilder>(this TBuilder builder, string connectionName = "redis", HealthStatus failureStatus = HealthStatus.Unhealthy)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<RedisOptions>()
            .Configure<IConfiguration>((o, configuration) => o.ConnectionString = configuration.GetConnectionString(connectionName))
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString),
                $"ConnectionStrings:{connectionName} must be set (host:port).")
            .ValidateOnStart();
        builder.Services.AddSingleton<IRedisStore>(sp => new RedisStore(sp.GetRequiredService<IOptions<RedisOptions>>().Value.ConnectionString!));
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", failureStatus, timeout: TimeSpan.FromSeconds(5));
        return builder;
    }
}

public sealed class RedisOptions
{
    public string? ConnectionString { get; set; }
}

internal sealed class RedisHealthCheck(IRedisStore redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            var latency = await redis.PingAsync(timeout.Token);
            return HealthCheckResult.Healthy($"PING {latency.TotalMilliseconds:F1} ms");
        }
        catch (Exception ex)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis is unreachable.", ex);
        }
    }
}
