using System.Collections.Concurrent;
using System.Net;

namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>
/// The rate limiter's per-replica fallback: the same two limits and arithmetic as the Redis script, for
/// at most <see cref="Capacity"/> addresses. Past that (after dropping idle ones) a new address is not
/// tracked and passes: the fallback stays bounded and the signature still guards.
/// </summary>
internal sealed class MemoryRateLimiter(int failedLimit, int totalLimit, long windowMs, int capacity = MemoryRateLimiter.DefaultCapacity)
{
    public const int DefaultCapacity = 100_000;

    private readonly ConcurrentDictionary<IPAddress, Entry> _entries = new();
    private long _lastSweepMs;

    public int Capacity => capacity;

    public int Count => _entries.Count;

    public RateLimitDecision Check(IPAddress client, long nowMs)
    {
        var entry = GetEntry(client, nowMs);
        if (entry is null)
        {
            return RateLimitDecision.Allow;
        }

        lock (entry)
        {
            entry.LastSeenMs = nowMs;
            if (entry.BlockedUntilMs > nowMs)
            {
                return RateLimitDecision.Deny(TimeSpan.FromMilliseconds(entry.BlockedUntilMs - nowMs), RateLimitDecision.FailedVerification);
            }

            entry.Total.Roll(nowMs, windowMs);
            if (entry.Total.Estimate(nowMs, windowMs) + 1 > totalLimit)
            {
                var retry = SlidingWindow.RetryAfterMs(entry.Total.Previous, entry.Total.Current, entry.Total.Bucket, nowMs, windowMs, totalLimit);
                return RateLimitDecision.Deny(TimeSpan.FromMilliseconds(retry), RateLimitDecision.TotalLimit);
            }

            entry.Total.Current++;
            return RateLimitDecision.Allow;
        }
    }

    public void RecordFailure(IPAddress client, long nowMs)
    {
        var entry = GetEntry(client, nowMs);
        if (entry is null)
        {
            return;
        }

        lock (entry)
        {
            entry.LastSeenMs = nowMs;
            entry.Failed.Roll(nowMs, windowMs);
            entry.Failed.Current++;
            // "100 failures per minute": the 100th failure uses up the allowance, so the next request is refused.
            if (entry.Failed.Estimate(nowMs, windowMs) >= failedLimit)
            {
                entry.BlockedUntilMs = Math.Max(entry.BlockedUntilMs, nowMs + windowMs);
            }
        }
    }

    private Entry? GetEntry(IPAddress client, long nowMs)
    {
        if (_entries.TryGetValue(client, out var entry))
        {
            return entry;
        }

        if (_entries.Count >= capacity)
        {
            SweepIfDue(nowMs);
            if (_entries.Count >= capacity)
            {
                return null;
            }
        }

        return _entries.GetOrAdd(client, static _ => new Entry());
    }

    /// <summary>Drops addresses with nothing left that could limit them; at most once per second.</summary>
    private void SweepIfDue(long nowMs)
    {
        var last = Interlocked.Read(ref _lastSweepMs);
        if (nowMs - last < 1000 || Interlocked.CompareExchange(ref _lastSweepMs, nowMs, last) != last)
        {
            return;
        }

        foreach (var (address, entry) in _entries)
        {
            bool idle;
            lock (entry)
            {
                idle = nowMs - entry.LastSeenMs >= 2 * windowMs && entry.BlockedUntilMs <= nowMs;
            }

            if (idle)
            {
                _entries.TryRemove(address, out _);
            }
        }
    }

    private sealed class Entry
    {
        public SlidingWindow Total;
        public SlidingWindow Failed;
        public long BlockedUntilMs;
        public long LastSeenMs;
    }
}
