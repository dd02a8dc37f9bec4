namespace VoiceKraliki.Compliance.Tests.Support;

/// <summary>Polling for what the service does in the background (bus consumers, the outbox, the sweeper).</summary>
internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds; fails the test after <paramref name="seconds"/>.</summary>
    public static async Task Until(Func<Task<bool>> condition, string what = "the condition", int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} did not hold within {seconds} s");
            await Task.Delay(100);
        }
    }
}

/// <summary>
/// The real clock moved by an offset the test sets: "now" jumps ahead as far as a retention period, while timers and
/// delays keep running in real time, so everything else in the service (the bus, the outbox) works as usual.
/// </summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}
