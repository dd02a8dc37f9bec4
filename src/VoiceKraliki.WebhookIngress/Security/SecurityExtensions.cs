using Microsoft.Extensions.DependencyInjection.Extensions;
using VoiceKraliki.ServiceDefaults.Redis;

namespace VoiceKraliki.WebhookIngress.Security;

public static class SecurityExtensions
{
    /// <summary>
    /// Registers the webhook security layers (client address, source allowlist, rate limiter, replay guard),
    /// their options validated at start, metrics and the <c>webhook-security</c> health check.
    /// Needs <see cref="IRedisStore"/> (<c>AddRedis()</c>), which the service already registers.
    /// </summary>
    public static IHostApplicationBuilder AddWebhookSecurity(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<WebhookSecurityOptions>(WebhookSecurityOptions.SectionName);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<ClientAddressResolver>();
        builder.Services.AddSingleton<SourceAllowlist>();
        builder.Services.AddSingleton<WebhookRateLimiter>();
        builder.Services.AddSingleton<ReplayGuard>();
        builder.Services.AddSingleton<WebhookSecurityMetrics>();
        builder.Services.AddHostedService<WebhookSecurityStartup>();
        builder.Services.AddHealthChecks().AddCheck<WebhookSecurityHealthCheck>(WebhookSecurityHealthCheck.Name);
        return builder;
    }
}

/// <summary>
/// Builds the layers when the host starts (after options validation), so that their ranges are parsed
/// and what they accept is logged at boot rather than on the first webhook, and opens the Redis
/// connection in the background: connecting takes longer than the per-request Redis timeout, and a
/// first webhook that had to wait for it would find Redis "slow" and use memory for a while.
/// </summary>
internal sealed class WebhookSecurityStartup(IServiceProvider services, IRedisStore redis) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<ClientAddressResolver>();
        services.GetRequiredService<SourceAllowlist>();
        services.GetRequiredService<WebhookRateLimiter>();
        services.GetRequiredService<ReplayGuard>();
        services.GetRequiredService<WebhookSecurityMetrics>();

        // Not awaited: with Redis down the service still starts (and the layers use memory).
        _ = Task.Run(() => redis.PingAsync(CancellationToken.None), CancellationToken.None)
            .ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
