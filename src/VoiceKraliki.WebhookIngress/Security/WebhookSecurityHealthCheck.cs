using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>
/// Degraded while a layer keeps its state per replica because Redis is unavailable: limits and
/// deduplication then hold only within each replica.
/// </summary>
public sealed class WebhookSecurityHealthCheck(WebhookRateLimiter rateLimiter, ReplayGuard replayGuard) : IHealthCheck
{
    public const string Name = "webhook-security";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // An idle replica would otherwise only notice Redis is back with the next webhook.
        rateLimiter.ProbeRedisIfDue();
        replayGuard.ProbeRedisIfDue();

        var data = new Dictionary<string, object>
        {
            ["rateLimiting"] = rateLimiter.UsingFallback ? "memory" : "redis",
            ["replayGuard"] = replayGuard.UsingFallback ? "memory" : "redis",
        };

        string[] fellBack = [.. FellBack(rateLimiter.UsingFallback, WebhookRateLimiter.Layer), .. FellBack(replayGuard.UsingFallback, ReplayGuard.Layer)];
        var result = fellBack.Length == 0
            ? HealthCheckResult.Healthy("Rate limiting and replay guard share state through Redis.", data)
            : HealthCheckResult.Degraded(
                $"{string.Join(" and ", fellBack)} fell back to per-replica memory: Redis unavailable.", data: data);
        return Task.FromResult(result);
    }

    private static IEnumerable<string> FellBack(bool usingFallback, string layer) => usingFallback ? [layer] : [];
}
