namespace VoiceKraliki.Alerting.Tests.Channels;

/// <summary>
/// A clock that moves only when told; its timers (and so <c>Task.Delay</c> on it) fire as it passes them.
/// <see cref="RunAsync{T}"/> drives a task that waits on it: whenever the task is waiting on one of its timers, the
/// clock jumps to that timer, while real work (HTTP to a real receiver) runs in real time. Only for tasks whose every
/// timer is a wait to be skipped (not a timeout that should not fire).
/// </summary>
public sealed class ManualClock : TimeProvider
{
    public static readonly DateTimeOffset Epoch = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly Lock _lock = new();
    private readonly List<ManualTimer> _timers = [];
    private long _ticks;

    /// <summary>Microseconds.</summary>
    public override long TimestampFrequency => 1_000_000;

    public TimeSpan Elapsed => TimeSpan.FromTicks(GetTimestamp() * 10);

    public override long GetTimestamp()
    {
        lock (_lock)
        {
            return _ticks;
        }
    }

    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks(GetTimestamp() * 10);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock on, firing every timer that falls due on the way, in order.</summary>
    public void Advance(TimeSpan by)
    {
        long target;
        lock (_lock)
        {
            target = _ticks + (by.Ticks / 10);
        }

        while (true)
        {
            ManualTimer? next;
            lock (_lock)
            {
                next = _timers.Where(t => t.Due <= target).MinBy(t => t.Due);
                if (next is null)
                {
                    _ticks = target;
                    return;
                }

                _ticks = Math.Max(_ticks, next.Due);
                if (next.Period > 0)
                {
                    next.Due += next.Period;
                }
                else
                {
                    _timers.Remove(next);
                }
            }

            next.Fire();
        }
    }

    /// <summary>Runs <paramref name="task"/> to its end, jumping the clock to each timer it waits on; fails after <paramref name="realTimeout"/> of real time.</summary>
    public async Task<T> RunAsync<T>(Task<T> task, TimeSpan? realTimeout = null)
    {
        var giveUp = DateTime.UtcNow + (realTimeout ?? TimeSpan.FromSeconds(60));
        while (!task.IsCompleted)
        {
            if (DateTime.UtcNow > giveUp)
            {
                throw new TimeoutException($"The task did not finish; the clock is at +{Elapsed}.");
            }

            long? due;
            lock (_lock)
            {
                due = _timers.Count == 0 ? null : _timers.Min(t => t.Due);
            }

            if (due is { } d)
            {
                Advance(TimeSpan.FromTicks(Math.Max(0, d - GetTimestamp()) * 10));

                // Let what the timer woke up run (and read the clock) before the clock jumps again.
                await Task.WhenAny(task, Task.Delay(30));
            }
            else
            {
                await Task.WhenAny(task, Task.Delay(5));
            }
        }

        return await task;
    }

    private sealed class ManualTimer(ManualClock owner, TimerCallback callback, object? state) : ITimer
    {
        public long Due { get; set; }

        public long Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._lock)
            {
                owner._timers.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    return true;
                }

                Due = owner._ticks + (dueTime.Ticks / 10);
                Period = period == Timeout.InfiniteTimeSpan ? 0 : period.Ticks / 10;
                owner._timers.Add(this);
                return true;
            }
        }

        public void Dispose()
        {
            lock (owner._lock)
            {
                owner._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
