namespace VoiceKraliki.Simulator.Tests.Support;

/// <summary>
/// A fake clock for one scripted call at a time: every timer jumps the clock forward by its due time and
/// fires at once, so a call's 1 s ring and 3 s talk take no real time and its timestamps stay exact.
/// </summary>
internal sealed class SteppingTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private DateTimeOffset _now = start;

    public SteppingTimeProvider()
        : this(DateTimeOffset.UtcNow)
    {
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    /// <summary>Moves the clock without firing anything (for expiry checks).</summary>
    public void Advance(TimeSpan by)
    {
        lock (_gate)
        {
            _now += by;
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new SteppingTimer();
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (_gate)
            {
                _now += dueTime;
            }

            // Fire after CreateTimer returns, as a real timer would: Task.Delay keeps the timer it is given.
            ThreadPool.QueueUserWorkItem(_ =>
            {
                if (!timer.Disposed)
                {
                    callback(state);
                }
            });
        }

        return timer;
    }

    private sealed class SteppingTimer : ITimer
    {
        public volatile bool Disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period) => !Disposed;

        public void Dispose() => Disposed = true;

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
