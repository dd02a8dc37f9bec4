using System.Net;
using VoiceKraliki.WebhookIngress.Security;

namespace VoiceKraliki.WebhookIngress.Tests.Security;

/// <summary>The per-replica stores the layers fall back to: same limits, bounded memory.</summary>
public class MemoryFallbackTests
{
    private static readonly DateTimeOffset Start = ManualClock.MinuteBoundary;

    [Fact]
    public void A_repeat_is_refused_until_the_ttl_has_passed()
    {
        var set = new MemoryReplaySet(capacity: 10, ttl: TimeSpan.FromMinutes(5));

        Assert.True(set.TryClaim("a", Start));
        Assert.False(set.TryClaim("a", Start.AddMinutes(4)));
        Assert.True(set.TryClaim("a", Start.AddMinutes(5)));
    }

    [Fact]
    public void A_released_key_can_be_claimed_again()
    {
        var set = new MemoryReplaySet(capacity: 10, ttl: TimeSpan.FromMinutes(5));
        set.TryClaim("a", Start);

        set.Release("a");

        Assert.True(set.TryClaim("a", Start));
    }

    [Fact]
    public void A_full_set_forgets_its_oldest_claim_first()
    {
        var set = new MemoryReplaySet(capacity: 3, ttl: TimeSpan.FromHours(1));
        for (var i = 0; i < 4; i++)
        {
            Assert.True(set.TryClaim($"k{i}", Start.AddSeconds(i)));
        }

        Assert.Equal(3, set.Count);
        Assert.False(set.TryClaim("k3", Start.AddSeconds(5)));
        Assert.False(set.TryClaim("k1", Start.AddSeconds(5)));
        Assert.True(set.TryClaim("k0", Start.AddSeconds(5)));
    }

    [Fact]
    public void Releases_do_not_let_the_set_grow_past_its_capacity()
    {
        var set = new MemoryReplaySet(capacity: 5, ttl: TimeSpan.FromHours(1));
        for (var i = 0; i < 1000; i++)
        {
            set.TryClaim($"k{i % 7}", Start.AddSeconds(i));
            set.Release($"k{(i + 3) % 7}");
        }

        Assert.InRange(set.Count, 0, 5);
    }

    [Fact]
    public void The_memory_limiter_blocks_after_the_failure_limit_and_counts_the_total()
    {
        var limiter = new MemoryRateLimiter(failedLimit: 3, totalLimit: 5, windowMs: 60_000);
        var now = Start.ToUnixTimeMilliseconds();
        var attacker = IPAddress.Parse("203.0.113.1");
        var busy = IPAddress.Parse("203.0.113.2");

        for (var i = 0; i < 2; i++)
        {
            limiter.RecordFailure(attacker, now);
        }

        Assert.True(limiter.Check(attacker, now).Allowed);
        limiter.RecordFailure(attacker, now);
        var blocked = limiter.Check(attacker, now);
        Assert.Equal(RateLimitDecision.Deny(TimeSpan.FromMinutes(1), RateLimitDecision.FailedVerification), blocked);
        Assert.True(limiter.Check(attacker, now + 60_000).Allowed);

        for (var i = 0; i < 5; i++)
        {
            Assert.True(limiter.Check(busy, now).Allowed);
        }

        var total = limiter.Check(busy, now);
        Assert.False(total.Allowed);
        Assert.Equal(RateLimitDecision.TotalLimit, total.Reason);
        Assert.True(total.RetryAfter > TimeSpan.Zero);
        Assert.True(limiter.Check(busy, now + (long)total.RetryAfter.TotalMilliseconds).Allowed);
    }

    [Fact]
    public void The_memory_limiter_tracks_a_bounded_number_of_addresses()
    {
        var limiter = new MemoryRateLimiter(failedLimit: 1, totalLimit: 1, windowMs: 60_000, capacity: 100);
        var now = Start.ToUnixTimeMilliseconds();
        for (var i = 0; i < 1000; i++)
        {
            limiter.Check(new IPAddress([10, 9, (byte)(i >> 8), (byte)i]), now);
        }

        Assert.Equal(100, limiter.Count);

        // Once the tracked addresses have gone idle, they make room for new ones.
        var later = now + 3 * 60_000;
        limiter.Check(IPAddress.Parse("10.8.0.1"), later);
        Assert.Equal(1, limiter.Count);
    }
}
