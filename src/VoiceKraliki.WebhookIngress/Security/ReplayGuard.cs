using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Redis;

namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>
/// Idempotency for deliveries: the first claim of a key wins, repeats (provider retries, replays) lose,
/// for <see cref="ReplayOptions.Ttl"/>. Claims are shared by every replica through Redis (<c>SET NX</c>);
/// when Redis is down or slow they are kept per replica in memory, and the guard never throws for that.
/// Claims made in memory are not known to Redis once it is back.
/// </summary>
public sealed class ReplayGuard
{
    internal const string Layer = "replay guard";
    internal const string KeyPrefix = "webhook:replay:";
    private const int LongestPlainKey = 128;

    private readonly ReplayOptions _options;
    private readonly TimeProvider _time;
    private readonly RedisFailover _failover;
    private readonly MemoryReplaySet _memory;

    public ReplayGuard(IRedisStore redis, IOptions<WebhookSecurityOptions> options, TimeProvider time, ILogger<ReplayGuard> logger)
    {
        _options = options.Value.Replay;
        _time = time;
        _failover = new RedisFailover(redis, time, logger, Layer, options.Value.RateLimit.RedisTimeout);
        _memory = new MemoryReplaySet(MemoryReplaySet.DefaultCapacity, _options.Ttl);
    }

    /// <summary>True while Redis is unavailable and claims are kept per replica.</summary>
    public bool UsingFallback => _failover.UsingFallback;

    /// <summary>Claims <paramref name="key"/> (the provider's delivery or event id) for this provider.</summary>
    public ValueTask<bool> TryClaimAsync(TelephonyProvider provider, string key, CancellationToken cancellationToken) =>
        TryClaimAsync(ProviderKey(provider, key), cancellationToken);

    /// <summary>
    /// True when <paramref name="key"/> is new (and is now claimed), false for a repeat. The key should begin
    /// with the provider (<c>telnyx:{event id}</c>); it is stored as <c>webhook:replay:{key}</c>.
    /// </summary>
    public async ValueTask<bool> TryClaimAsync(string key, CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return true;
        }

        var storedKey = StoredKey(key);
        if (_failover.ShouldUseRedis())
        {
            var ttl = _options.Ttl;
            var attempt = await _failover.TryAsync((redis, ct) => redis.SetIfNotExistsAsync(storedKey, "1", ttl, ct), cancellationToken);
            if (attempt.Succeeded)
            {
                return attempt.Value;
            }
        }

        return _memory.TryClaim(storedKey, _time.GetUtcNow());
    }

    public ValueTask ReleaseAsync(TelephonyProvider provider, string key, CancellationToken cancellationToken) =>
        ReleaseAsync(ProviderKey(provider, key), cancellationToken);

    /// <summary>Forgets a claim, so that the provider's retry of a delivery we failed to publish is accepted.</summary>
    public async ValueTask ReleaseAsync(string key, CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        var storedKey = StoredKey(key);
        _memory.Release(storedKey);
        if (_failover.ShouldUseRedis())
        {
            await _failover.TryAsync((redis, ct) => redis.DeleteAsync(storedKey, ct), cancellationToken);
        }
    }

    /// <summary>Lets an idle replica notice that Redis is back (the health check calls it).</summary>
    internal void ProbeRedisIfDue() => _failover.ProbeIfDue();

    /// <summary><c>{provider}:{key}</c>, with a long key replaced by its SHA-256, so that the provider stays readable.</summary>
    internal static string ProviderKey(TelephonyProvider provider, string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var name = provider switch
        {
            TelephonyProvider.Twilio => "twilio:",
            TelephonyProvider.Telnyx => "telnyx:",
            _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "Unknown telephony provider."),
        };
        return name + Compact(key);
    }

    /// <summary>The Redis key: namespaced, and a long key (it comes from the request) replaced by its SHA-256.</summary>
    internal static string StoredKey(string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return KeyPrefix + Compact(key);
    }

    private static string Compact(string key)
    {
        if (key.Length <= LongestPlainKey)
        {
            return key;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return "sha256:" + Convert.ToHexStringLower(hash);
    }
}
