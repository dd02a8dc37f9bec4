namespace VoiceKraliki.Compliance.Tests.Support;

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
