namespace VoiceKraliki.Alerting.Notifications.Channels;

internal static class TimeProviderWaits
{
    /// <summary>
    /// Waits until <paramref name="time"/>'s timestamp reaches <paramref name="until"/>. A timer can fire a few
    /// milliseconds early (the system's timers count whole milliseconds), and a receiver's <c>Retry-After</c> means
    /// "not before", so a short wait is topped up.
    /// </summary>
    public static async Task UntilAsync(this TimeProvider time, long until, CancellationToken cancellationToken)
    {
        while (true)
        {
            var left = time.GetElapsedTime(time.GetTimestamp(), until);
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            await Task.Delay(left < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : left, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The timestamp <paramref name="after"/> from <paramref name="from"/>.</summary>
    public static long Plus(this TimeProvider time, long from, TimeSpan after) =>
        from + (long)Math.Ceiling(after.TotalSeconds * time.TimestampFrequency);
}
