using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace VoiceKraliki.AppHost.Testing;

/// <summary>For tests that host a service or a bus client in process.</summary>
public static class HealthWait
{
    /// <summary>Polls the host's health checks until all are Healthy; throws naming each check's state after <paramref name="within"/>.</summary>
    public static async Task UntilHealthyAsync(IServiceProvider services, TimeSpan within)
    {
        var health = services.GetRequiredService<HealthCheckService>();
        var watch = Stopwatch.StartNew();
        HealthReport report;
        while ((report = await health.CheckHealthAsync()).Status != HealthStatus.Healthy)
        {
            if (watch.Elapsed > within)
            {
                throw new TimeoutException("Not healthy: " + string.Join("; ", report.Entries.Select(e => $"{e.Key}={e.Value.Status} {e.Value.Description}")));
            }

            await Task.Delay(100);
        }
    }
}
