using VoiceKraliki.Contracts;

namespace VoiceKraliki.WebhookIngress.Tests.Security;

[Collection(RedisCollection.Name)]
public sealed class ReplayGuardTests(RedisFixture redis)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static string NewKey() => "evt-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task The_first_claim_wins_a_repeat_loses_and_a_released_key_can_be_claimed_again()
    {
        using var host = await SecurityHost.StartAsync(redis.ConnectionString);
        var guard = host.ReplayGuard;
        var key = "telnyx:" + NewKey();

        Assert.True(await guard.TryClaimAsync(key, None));
        Assert.False(await guard.TryClaimAsync(key, None));

        await guard.ReleaseAsync(key, None);

        Assert.True(await guard.TryClaimAsync(key, None));
        Assert.False(guard.UsingFallback);
    }

    [Fact]
    public async Task Two_instances_sharing_redis_share_claims_and_releases()
    {
        using var first = await SecurityHost.StartAsync(redis.ConnectionString);
        using var second = await SecurityHost.StartAsync(redis.ConnectionString);
        var key = NewKey();

        Assert.True(await first.ReplayGuard.TryClaimAsync(TelephonyProvider.Twilio, key, None));
        Assert.False(await second.ReplayGuard.TryClaimAsync(TelephonyProvider.Twilio, key, None));

        await second.ReplayGuard.ReleaseAsync(TelephonyProvider.Twilio, key, None);

        Assert.True(await first.ReplayGuard.TryClaimAsync(TelephonyProvider.Twilio, key, None));
    }

    [Fact]
    public async Task Claims_are_namespaced_by_provider()
    {
        using var host = await SecurityHost.StartAsync(redis.ConnectionString);
        var key = NewKey();

        Assert.True(await host.ReplayGuard.TryClaimAsync(TelephonyProvider.Twilio, key, None));
        Assert.True(await host.ReplayGuard.TryClaimAsync(TelephonyProvider.Telnyx, key, None));
        Assert.Equal("1", await redis.ReadAsync($"webhook:replay:twilio:{key}"));
        Assert.Equal("1", await redis.ReadAsync($"webhook:replay:telnyx:{key}"));
    }

    [Fact]
    public async Task A_long_key_is_stored_as_its_sha256_and_still_deduplicated()
    {
        using var host = await SecurityHost.StartAsync(redis.ConnectionString);
        var key = NewKey() + new string('x', 1000);

        Assert.True(await host.ReplayGuard.TryClaimAsync(TelephonyProvider.Telnyx, key, None));
        Assert.False(await host.ReplayGuard.TryClaimAsync(TelephonyProvider.Telnyx, key, None));

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
        Assert.Equal("1", await redis.ReadAsync($"webhook:replay:telnyx:sha256:{hash}"));
    }

    [Fact]
    public async Task A_disabled_guard_lets_every_repeat_through()
    {
        using var host = await SecurityHost.StartAsync(redis.ConnectionString,
            settings: new Dictionary<string, string?> { ["WebhookSecurity:Replay:Enabled"] = "false" });
        var key = NewKey();

        Assert.True(await host.ReplayGuard.TryClaimAsync(TelephonyProvider.Telnyx, key, None));
        Assert.True(await host.ReplayGuard.TryClaimAsync(TelephonyProvider.Telnyx, key, None));
    }
}
