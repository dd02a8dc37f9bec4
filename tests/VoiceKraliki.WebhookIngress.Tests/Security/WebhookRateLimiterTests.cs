using System.Net;
using VoiceKraliki.WebhookIngress.Security;

namespace VoiceKraliki.WebhookIngress.Tests.Security;

[Collection(RedisCollection.Name)]
public sealed class WebhookRateLimiterTests(RedisFixture redis)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static async Task FailAsync(WebhookRateLimiter limiter, IPAddress client, int times)
    {
        for (var i = 0; i < times; i++)
        {
            await limiter.RecordFailureAsync(client, None);
        }
    }

    [Fact]
    public async Task After_100_failed_verifications_within_a_minute_the_101st_request_is_refused_while_another_address_passes()
    {
        using var host = await SecurityHost.StartAsync(redis.ConnectionString);
        var limiter = host.RateLimiter;
        var attacker = TestAddresses.Next();
        var bystander = TestAddresses.Next();

        await FailAsync(limiter, attacker, 99);
        Assert.True((await limiter.CheckAsync(attacker, None)).Allowed);

        await limiter.RecordFailureAsync(attacker, None);
        var decision = await limiter.CheckAsync(attacker, None);

        Assert.False(decision.Allowed);
        Assert.Equal(RateLimitDecision.FailedVerification, decision.Reason);
        Assert.InRange(decision.RetryAfter, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(60));
        Assert.True((await limiter.CheckAsync(bystander, None)).Allowed);
        Assert.False(limiter.UsingFallback);
        Assert.Equal(1, host.Logs.Count($"Webhook client {attacker} is blocked for a minute"));
    }

    [Fact]
    public async Task Two_instances_sharing_redis_share_the_failure_count()
    {
        using var first = await SecurityHost.StartAsync(redis.ConnectionString);
        using var second = await SecurityHost.StartAsync(redis.ConnectionString);
        var attacker = TestAddresses.Next();

        await FailAsync(first.RateLimiter, attacker, 50);
        await FailAsync(second.RateLimiter, attacker, 49);
        Assert.True((await first.RateLimiter.CheckAsync(attacker, None)).Allowed);
        Assert.True((await second.RateLimiter.CheckAsync(attacker, None)).Allowed);

        await first.RateLimiter.RecordFailureAsync(attacker, None);

        var onFirst = await first.RateLimiter.CheckAsync(attacker, None);
        var onSecond = await second.RateLimiter.CheckAsync(attacker, None);
        Assert.False(onFirst.Allowed);
        Assert.False(onSecond.Allowed);
        Assert.Equal(RateLimitDecision.FailedVerification, onSecond.Reason);
        Assert.True(onSecond.RetryAfter > TimeSpan.Zero);
        Assert.False(first.RateLimiter.UsingFallback || second.RateLimiter.UsingFallback);
    }

    [Fact]
    public async Task Past_the_total_ceiling_requests_are_denied_across_instances_until_the_window_slides()
    {
        var clock = new ManualClock();
        var settings = new Dictionary<string, string?> { ["WebhookSecurity:RateLimit:TotalPerMinute"] = "20" };
        using var first = await SecurityHost.StartAsync(redis.ConnectionString, clock, settings);
        using var second = await SecurityHost.StartAsync(redis.ConnectionString, clock, settings);
        var client = TestAddresses.Next();

        for (var i = 0; i < 20; i++)
        {
            var limiter = i % 2 == 0 ? first.RateLimiter : second.RateLimiter;
            Assert.True((await limiter.CheckAsync(client, None)).Allowed, $"request {i + 1}");
        }

        var denied = await first.RateLimiter.CheckAsync(client, None);
        Assert.False(denied.Allowed);
        Assert.Equal(RateLimitDecision.TotalLimit, denied.Reason);
        Assert.True((await second.RateLimiter.CheckAsync(TestAddresses.Next(), None)).Allowed);

        // 20 requests in the minute just gone weigh 20 * (60 - 3) / 60 = 19 three seconds into the next:
        // room for exactly one more, which is when the denial said to retry.
        Assert.Equal(TimeSpan.FromSeconds(63), denied.RetryAfter);
        clock.Advance(denied.RetryAfter - TimeSpan.FromMilliseconds(1));
        Assert.False((await first.RateLimiter.CheckAsync(client, None)).Allowed);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True((await first.RateLimiter.CheckAsync(client, None)).Allowed);
        Assert.False((await second.RateLimiter.CheckAsync(client, None)).Allowed);

        // Two minutes on, nothing of the first minute is left.
        clock.Advance(TimeSpan.FromMinutes(2));
        for (var i = 0; i < 20; i++)
        {
            Assert.True((await second.RateLimiter.CheckAsync(client, None)).Allowed, $"request {i + 1} after two minutes");
        }

        Assert.False(first.RateLimiter.UsingFallback || second.RateLimiter.UsingFallback);
    }

    [Fact]
    public async Task Half_a_minute_into_the_next_window_half_of_the_last_minute_still_counts()
    {
        var clock = new ManualClock();
        using var host = await SecurityHost.StartAsync(redis.ConnectionString, clock,
            new Dictionary<string, string?> { ["WebhookSecurity:RateLimit:TotalPerMinute"] = "20" });
        var client = TestAddresses.Next();
        for (var i = 0; i < 20; i++)
        {
            await host.RateLimiter.CheckAsync(client, None);
        }

        clock.Advance(TimeSpan.FromSeconds(90));

        var allowed = 0;
        while ((await host.RateLimiter.CheckAsync(client, None)).Allowed)
        {
            allowed++;
        }

        Assert.Equal(10, allowed);
    }

    [Fact]
    public async Task A_blocked_address_is_let_through_again_once_the_minute_has_passed()
    {
        var clock = new ManualClock(ManualClock.MinuteBoundary.AddSeconds(42));
        using var host = await SecurityHost.StartAsync(redis.ConnectionString, clock);
        var client = TestAddresses.Next();
        await FailAsync(host.RateLimiter, client, 101);

        var blocked = await host.RateLimiter.CheckAsync(client, None);
        Assert.Equal(TimeSpan.FromMinutes(1), blocked.RetryAfter);

        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.False((await host.RateLimiter.CheckAsync(client, None)).Allowed);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.True((await host.RateLimiter.CheckAsync(client, None)).Allowed);
    }

    [Fact]
    public async Task Failures_spread_thinly_over_minutes_never_block()
    {
        var clock = new ManualClock();
        using var host = await SecurityHost.StartAsync(redis.ConnectionString, clock,
            new Dictionary<string, string?> { ["WebhookSecurity:RateLimit:FailedPerMinute"] = "5" });
        var client = TestAddresses.Next();

        for (var i = 0; i < 30; i++)
        {
            await host.RateLimiter.RecordFailureAsync(client, None);
            clock.Advance(TimeSpan.FromSeconds(20));
            Assert.True((await host.RateLimiter.CheckAsync(client, None)).Allowed, $"after failure {i + 1}");
        }
    }

    [Fact]
    public async Task A_disabled_limiter_allows_everything()
    {
        using var host = await SecurityHost.StartAsync(redis.ConnectionString, settings: new Dictionary<string, string?>
        {
            ["WebhookSecurity:RateLimit:Enabled"] = "false",
            ["WebhookSecurity:RateLimit:FailedPerMinute"] = "1",
            ["WebhookSecurity:RateLimit:TotalPerMinute"] = "1",
        });
        var client = TestAddresses.Next();
        await FailAsync(host.RateLimiter, client, 5);

        for (var i = 0; i < 5; i++)
        {
            Assert.True((await host.RateLimiter.CheckAsync(client, None)).Allowed);
        }
    }

    [Fact]
    public async Task Ipv4_mapped_and_plain_forms_of_an_address_share_one_count()
    {
        using var host = await SecurityHost.StartAsync(redis.ConnectionString);
        var client = TestAddresses.Next();
        await FailAsync(host.RateLimiter, client.MapToIPv6(), 101);

        Assert.False((await host.RateLimiter.CheckAsync(client, None)).Allowed);
    }
}
