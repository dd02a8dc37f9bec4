namespace VoiceKraliki.Compliance.Tests.Support;

/// <summary>A clock the test sets; each reading advances it by <see cref="Step"/> so entries get distinct times.</summary>
public sealed class TestClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public TimeSpan Step { get; init; } = TimeSpan.FromMilliseconds(1.234567);

    public override DateTimeOffset GetUtcNow() =>
        new(Interlocked.Add(ref _ticks, Step.Ticks) - Step.Ticks, TimeSpan.Zero);
}
