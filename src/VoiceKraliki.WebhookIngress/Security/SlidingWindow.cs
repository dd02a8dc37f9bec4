namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>
/// A sliding window approximated by two fixed buckets: the count now is the current bucket plus the
/// previous bucket weighted by how much of it still lies inside the window. Redis runs the same
/// arithmetic in Lua (<see cref="WebhookRateLimiter"/>); this is the memory fallback's copy.
/// </summary>
internal struct SlidingWindow
{
    public long Bucket;
    public long Current;
    public long Previous;

    /// <summary>Moves the buckets forward to the one that holds <paramref name="nowMs"/>.</summary>
    public void Roll(long nowMs, long windowMs)
    {
        var bucket = nowMs / windowMs;
        if (bucket <= Bucket)
        {
            return;
        }

        Previous = bucket == Bucket + 1 ? Current : 0;
        Current = 0;
        Bucket = bucket;
    }

    public readonly double Estimate(long nowMs, long windowMs)
    {
        var elapsed = Math.Clamp(nowMs - Bucket * windowMs, 0, windowMs);
        return Previous * (double)(windowMs - elapsed) / windowMs + Current;
    }

    /// <summary>How long until one more event fits under <paramref name="limit"/> (at least 1 ms).</summary>
    public static long RetryAfterMs(long previous, long current, long bucket, long nowMs, long windowMs, long limit)
    {
        var bucketStart = bucket * windowMs;
        var room = limit - 1 - current;
        long at;
        if (room >= 0 && previous > 0)
        {
            // previous * (window - elapsed) / window <= room  ⇔  elapsed >= window * (previous - room) / previous
            at = bucketStart + CeilingDivide(windowMs * (previous - room), previous);
        }
        else
        {
            // In the next bucket the current count is the weighted one:
            // current * (window - elapsed) / window + 1 <= limit  ⇔  elapsed >= window * (current - limit + 1) / current
            var elapsed = current > 0 ? CeilingDivide(windowMs * Math.Max(0, current - limit + 1), current) : 0;
            at = bucketStart + windowMs + elapsed;
        }

        return Math.Max(1, at - nowMs);
    }

    private static long CeilingDivide(long dividend, long divisor) => (dividend + divisor - 1) / divisor;
}
