using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// A token bucket per channel id: <see cref="ChannelConfig.RatePerMinute"/> tokens a minute, at most
/// <see cref="ChannelDeliveryOptions.RateLimitBurst"/> saved up. A sender takes a token; when none is left it reserves
/// the next one and waits for it, so deliveries queue in order instead of being dropped. The bucket's lock is held only
/// to count, never while waiting or sending, and one channel's queue never delays another's.
/// </summary>
public sealed class ChannelRateLimiter(TimeProvider time, IOptions<ChannelDeliveryOptions> options)
{
    private static readonly TimeSpan IdleBucketAge = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<Guid, Bucket> _buckets = new();
    private int _reservations;

    /// <summary>
    /// Waits until the channel may send once more, and returns how long that took. Cancelling gives the reserved
    /// token back.
    /// </summary>
    public async ValueTask<TimeSpan> WaitAsync(Guid channelId, int ratePerMinute, CancellationToken cancellationToken)
    {
        if (ratePerMinute <= 0)
        {
            return TimeSpan.Zero;
        }

        if (Interlocked.Increment(ref _reservations) % 1024 == 0)
        {
            PruneIdleBuckets();
        }

        var bucket = _buckets.GetOrAdd(channelId, static (_, t) => new Bucket(t), time);
        var (due, wait) = bucket.Reserve(ratePerMinute, options.Value.RateLimitBurst);
        if (wait <= TimeSpan.Zero)
        {
            return TimeSpan.Zero;
        }

        try
        {
            await time.UntilAsync(due, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            bucket.GiveBack(options.Value.RateLimitBurst);
            throw;
        }

        return wait;
    }

    // A bucket idle for an hour is full again, exactly like a new one: dropping it loses nothing.
    private void PruneIdleBuckets()
    {
        foreach (var (id, bucket) in _buckets)
        {
            if (bucket.IdleFor() > IdleBucketAge)
            {
                _buckets.TryRemove(id, out _);
            }
        }
    }

    private sealed class Bucket(TimeProvider time)
    {
        private readonly Lock _lock = new();
        private double _tokens = double.NaN;
        private long _updated;

        public TimeSpan IdleFor()
        {
            lock (_lock)
            {
                return time.GetElapsedTime(_updated);
            }
        }

        /// <summary>Takes a token, possibly one not yet there, and returns when it is (a timestamp) and how long that is from now.</summary>
        public (long Due, TimeSpan Wait) Reserve(int ratePerMinute, int burst)
        {
            var secondsPerToken = 60.0 / ratePerMinute;
            lock (_lock)
            {
                var now = time.GetTimestamp();
                _tokens = double.IsNaN(_tokens)
                    ? burst
                    : Math.Min(burst, _tokens + (time.GetElapsedTime(_updated, now).TotalSeconds / secondsPerToken));
                _updated = now;
                _tokens -= 1;
                if (_tokens >= 0)
                {
                    return (now, TimeSpan.Zero);
                }

                var wait = TimeSpan.FromSeconds(-_tokens * secondsPerToken);
                return (time.Plus(now, wait), wait);
            }
        }

        public void GiveBack(int burst)
        {
            lock (_lock)
            {
                _tokens = Math.Min(burst, _tokens + 1);
            }
        }
    }
}
