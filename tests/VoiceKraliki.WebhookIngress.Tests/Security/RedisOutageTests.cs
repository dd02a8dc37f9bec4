using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using VoiceKraliki.WebhookIngress.Security;

namespace VoiceKraliki.WebhookIngress.Tests.Security;

[Collection(RedisCollection.Name)]
public sealed class RedisOutageTests(RedisFixture redis)
{
    private static readonly CancellationToken None = CancellationToken.None;
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_replica_started_while_redis_is_down_answers_from_memory_at_once()
    {
        // Port 1: nothing listens; the store keeps trying to connect in the background.
        using var host = SecurityHost.Build("127.0.0.1:1");
        await host.StartAsync();
        var limiter = host.Services.GetRequiredService<WebhookRateLimiter>();
        var guard = host.Services.GetRequiredService<ReplayGuard>();
        var client = TestAddresses.Next();

        for (var i = 0; i < 10; i++)
        {
            var watch = Stopwatch.StartNew();
            Assert.True((await limiter.CheckAsync(client, None)).Allowed);
            Assert.True(await guard.TryClaimAsync($"telnyx:{i}", None));
            Assert.False(await guard.TryClaimAsync($"telnyx:{i}", None));
            // The first round also pays for JIT and first use (1.7 s once on a loaded CI machine); what matters is that
            // no round waits for Redis's connect timeout, and the later ones answer at memory speed.
            Assert.True(watch.Elapsed < (i == 0 ? 3 * Generous : Generous), $"round {i + 1} took {watch.Elapsed}");
        }

        Assert.True(limiter.UsingFallback);
        Assert.True(guard.UsingFallback);
        await host.StopAsync();
    }

    [Fact]
    public async Task Without_redis_the_layers_answer_quickly_from_memory_and_return_to_redis_when_it_is_back()
    {
        using var host = await SecurityHost.StartAsync(redis.ConnectionString);
        var limiter = host.RateLimiter;
        var guard = host.ReplayGuard;
        var client = TestAddresses.Next();
        Assert.True((await limiter.CheckAsync(client, None)).Allowed);
        Assert.True(await guard.TryClaimAsync("telnyx:" + Guid.NewGuid(), None));
        Assert.Equal(HealthStatus.Healthy, (await host.CheckHealthAsync()).Status);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var restarted = false;
        await redis.App.StopResourceAsync("redis", timeout.Token);
        try
        {
            // Every call answers quickly, the first one (which finds Redis gone) included.
            for (var i = 0; i < 20; i++)
            {
                var watch = Stopwatch.StartNew();
                var decision = await limiter.CheckAsync(client, None);
                Assert.True(watch.Elapsed < Generous, $"call {i + 1} took {watch.Elapsed}");
                Assert.True(decision.Allowed);
            }

            Assert.True(limiter.UsingFallback);

            // The memory fallback keeps the same limits.
            var attacker = TestAddresses.Next();
            for (var i = 0; i < 101; i++)
            {
                await limiter.RecordFailureAsync(attacker, None);
            }

            var blocked = await limiter.CheckAsync(attacker, None);
            Assert.False(blocked.Allowed);
            Assert.Equal("failed-verification", blocked.Reason);
            Assert.True(blocked.RetryAfter > TimeSpan.Zero);

            // Deliveries are still deduplicated within this replica.
            var key = "twilio:" + Guid.NewGuid();
            var watchClaim = Stopwatch.StartNew();
            Assert.True(await guard.TryClaimAsync(key, None));
            Assert.True(watchClaim.Elapsed < Generous, $"the claim took {watchClaim.Elapsed}");
            Assert.False(await guard.TryClaimAsync(key, None));
            await guard.ReleaseAsync(key, None);
            Assert.True(await guard.TryClaimAsync(key, None));
            Assert.True(guard.UsingFallback);

            var health = await host.CheckHealthAsync();
            Assert.Equal(HealthStatus.Degraded, health.Status);
            Assert.Contains("rate limiting", health.Description);
            Assert.Contains("replay guard", health.Description);
            Assert.Equal(1, host.Logs.CountStartingWith("rate limiting fell back to per-replica memory: Redis unavailable"));
            Assert.Equal(1, host.Logs.CountStartingWith("replay guard fell back to per-replica memory: Redis unavailable"));

            await redis.App.StartResourceAsync("redis", timeout.Token);
            restarted = true;

            var back = Stopwatch.StartNew();
            while (limiter.UsingFallback || guard.UsingFallback)
            {
                Assert.True(back.Elapsed < TimeSpan.FromSeconds(15), "still on memory 15 s after Redis came back");
                await limiter.CheckAsync(client, None);
                await guard.TryClaimAsync("telnyx:" + Guid.NewGuid(), None);
                await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
            }

            Assert.Equal(1, host.Logs.CountStartingWith("rate limiting back on Redis"));
            Assert.Equal(1, host.Logs.CountStartingWith("replay guard back on Redis"));
            Assert.Equal(HealthStatus.Healthy, (await host.CheckHealthAsync()).Status);

            // Back on Redis the count is shared again: a second instance sees the first one's failures.
            using var other = await SecurityHost.StartAsync(redis.ConnectionString);
            var shared = TestAddresses.Next();
            for (var i = 0; i < 101; i++)
            {
                await limiter.RecordFailureAsync(shared, None);
            }

            Assert.False((await other.RateLimiter.CheckAsync(shared, None)).Allowed);
        }
        finally
        {
            if (!restarted)
            {
                await redis.App.StartResourceAsync("redis", CancellationToken.None);
            }
        }
    }
}
