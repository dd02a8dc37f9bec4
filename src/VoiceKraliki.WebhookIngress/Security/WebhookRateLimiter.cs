using System.Net;
using Microsoft.Extensions.Options;
using VoiceKraliki.ServiceDefaults.Redis;

namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>The answer for one request: allowed, or denied with when to retry and why.</summary>
public readonly record struct RateLimitDecision(bool Allowed, TimeSpan RetryAfter, string? Reason)
{
    /// <summary>The address used up its <see cref="RateLimitOptions.FailedPerMinute"/> failed verifications.</summary>
    public const string FailedVerification = "failed-verification";

    /// <summary>The address sent more than <see cref="RateLimitOptions.TotalPerMinute"/> requests.</summary>
    public const string TotalLimit = "total";

    public static RateLimitDecision Allow => new(true, TimeSpan.Zero, null);

    public static RateLimitDecision Deny(TimeSpan retryAfter, string reason) => new(false, retryAfter, reason);
}

/// <summary>
/// Two limits per client address, shared by every replica through Redis: all requests
/// (<see cref="RateLimitOptions.TotalPerMinute"/>) and requests that failed verification
/// (<see cref="RateLimitOptions.FailedPerMinute"/>; the failure that reaches it blocks the address for a minute). Each is
/// a two-bucket sliding window updated atomically by a Lua script. When Redis is down or slow the limits
/// are kept per replica in memory, so a Redis outage neither stops webhooks nor slows them.
/// </summary>
public sealed partial class WebhookRateLimiter
{
    internal const long WindowMs = 60_000;
    internal const string Layer = "rate limiting";

    // KEYS[1] the address's hash; ARGV now (ms), window (ms), total limit.
    // Returns {allowed, reason (1 blocked, 2 total), blocked ms left, previous, current, bucket}.
    private const string CheckScript = """
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        local state = redis.call('HMGET', KEYS[1], 'blocked', 'tb', 'tc', 'tp')
        local blocked = tonumber(state[1]) or 0
        if blocked > now then
          return {0, 1, blocked - now, 0, 0, 0}
        end
        local bucket = math.floor(now / window)
        local b = tonumber(state[2]) or bucket
        local c = tonumber(state[3]) or 0
        local p = tonumber(state[4]) or 0
        if bucket > b then
          if bucket == b + 1 then p = c else p = 0 end
          c = 0
          b = bucket
        end
        local elapsed = math.min(math.max(now - b * window, 0), window)
        if p * (window - elapsed) / window + c + 1 > limit then
          return {0, 2, 0, p, c, b}
        end
        redis.call('HSET', KEYS[1], 'tb', b, 'tc', c + 1, 'tp', p)
        redis.call('PEXPIRE', KEYS[1], 2 * window)
        return {1, 0, 0, 0, 0, 0}
        """;

    // KEYS[1] the address's hash; ARGV now (ms), window (ms), failure limit.
    // Returns {1} when this failure blocked the address, {0} otherwise.
    private const string FailureScript = """
        local now = tonumber(ARGV[1])
        local window = tonumber(ARGV[2])
        local limit = tonumber(ARGV[3])
        local state = redis.call('HMGET', KEYS[1], 'blocked', 'fb', 'fc', 'fp')
        local blocked = tonumber(state[1]) or 0
        local bucket = math.floor(now / window)
        local b = tonumber(state[2]) or bucket
        local c = tonumber(state[3]) or 0
        local p = tonumber(state[4]) or 0
        if bucket > b then
          if bucket == b + 1 then p = c else p = 0 end
          c = 0
          b = bucket
        end
        c = c + 1
        local elapsed = math.min(math.max(now - b * window, 0), window)
        local newly = 0
        if p * (window - elapsed) / window + c >= limit then
          if blocked <= now then newly = 1 end
          if now + window > blocked then
            redis.call('HSET', KEYS[1], 'blocked', now + window)
          end
        end
        redis.call('HSET', KEYS[1], 'fb', b, 'fc', c, 'fp', p)
        redis.call('PEXPIRE', KEYS[1], 2 * window)
        return {newly}
        """;

    private readonly RateLimitOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RedisFailover _failover;
    private readonly MemoryRateLimiter _memory;

    public WebhookRateLimiter(IRedisStore redis, IOptions<WebhookSecurityOptions> options, TimeProvider time, ILogger<WebhookRateLimiter> logger)
    {
        _options = options.Value.RateLimit;
        _time = time;
        _logger = logger;
        _failover = new RedisFailover(redis, time, logger, Layer, _options.RedisTimeout);
        _memory = new MemoryRateLimiter(_options.FailedPerMinute, _options.TotalPerMinute, WindowMs);
    }

    /// <summary>True while Redis is unavailable and the limits are kept per replica.</summary>
    public bool UsingFallback => _failover.UsingFallback;

    /// <summary>Counts a request from <paramref name="client"/>; call it for every request, before verifying it.</summary>
    public async ValueTask<RateLimitDecision> CheckAsync(IPAddress client, CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return RateLimitDecision.Allow;
        }

        client = AddressRanges.Normalize(client);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_failover.ShouldUseRedis())
        {
            var keys = new[] { Key(client) };
            var arguments = new[] { now, WindowMs, _options.TotalPerMinute };
            var attempt = await _failover.TryAsync((redis, ct) => redis.EvaluateAsync(CheckScript, keys, arguments, ct), cancellationToken);
            if (attempt.Succeeded && attempt.Value.Length == 6)
            {
                var result = attempt.Value;
                return result[0] switch
                {
                    1 => RateLimitDecision.Allow,
                    _ when result[1] == 1 => RateLimitDecision.Deny(TimeSpan.FromMilliseconds(Math.Max(1, result[2])), RateLimitDecision.FailedVerification),
                    _ => RateLimitDecision.Deny(
                        TimeSpan.FromMilliseconds(SlidingWindow.RetryAfterMs(result[3], result[4], result[5], now, WindowMs, _options.TotalPerMinute)),
                        RateLimitDecision.TotalLimit),
                };
            }
        }

        return _memory.Check(client, now);
    }

    /// <summary>
    /// Counts a request from <paramref name="client"/> that failed the allowlist, its signature or its
    /// freshness check. At <see cref="RateLimitOptions.FailedPerMinute"/> failures the address is denied for a minute.
    /// </summary>
    public async ValueTask RecordFailureAsync(IPAddress client, CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        client = AddressRanges.Normalize(client);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_failover.ShouldUseRedis())
        {
            var keys = new[] { Key(client) };
            var arguments = new[] { now, WindowMs, _options.FailedPerMinute };
            var attempt = await _failover.TryAsync((redis, ct) => redis.EvaluateAsync(FailureScript, keys, arguments, ct), cancellationToken);
            if (attempt.Succeeded)
            {
                if (attempt.Value is [1])
                {
                    LogBlocked(_logger, client, _options.FailedPerMinute);
                }

                return;
            }
        }

        _memory.RecordFailure(client, now);
    }

    /// <summary>Lets an idle replica notice that Redis is back (the health check calls it).</summary>
    internal void ProbeRedisIfDue() => _failover.ProbeIfDue();

    // The braces are a Redis Cluster hash tag: everything about one address lives in one slot.
    internal static string Key(IPAddress client) => $"webhook:ratelimit:{{{client}}}";

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Webhook client {Client} is blocked for a minute: more than {Limit} requests failed verification within a minute")]
    private static partial void LogBlocked(ILogger logger, IPAddress client, int limit);
}
