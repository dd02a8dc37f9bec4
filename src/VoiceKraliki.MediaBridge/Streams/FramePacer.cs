using System.Diagnostics;
using System.Threading.Tasks.Sources;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>
/// Wakes a stream's sender at the time its next frame is due. One <see cref="PacedClock"/> per sender: it waits for
/// one time at a time.
/// </summary>
internal interface IFramePacer
{
    /// <summary>A clock for one sender, on the pacer's <see cref="TimeProvider"/>'s timestamps.</summary>
    PacedClock CreateClock();
}

/// <summary>One sender's way to wait for a due time (a timestamp of the pacer's time provider).</summary>
internal abstract class PacedClock : IDisposable
{
    public abstract ValueTask WaitUntilAsync(long dueTimestamp, CancellationToken cancellationToken);

    public virtual void Dispose()
    {
    }
}

/// <summary>
/// Pacing on a <see cref="TimeProvider"/>'s timers: right for a clock a test moves. On the real clock the timer's
/// callback goes through the thread pool, which on a busy machine sends frames late; <see cref="ThreadFramePacer"/> is
/// what the service uses there.
/// </summary>
internal sealed class TimerFramePacer(TimeProvider time) : IFramePacer
{
    public PacedClock CreateClock() => new TimerClock(time);

    private sealed class TimerClock(TimeProvider time) : PacedClock
    {
        public override ValueTask WaitUntilAsync(long dueTimestamp, CancellationToken cancellationToken)
        {
            var now = time.GetTimestamp();
            return dueTimestamp <= now
                ? ValueTask.CompletedTask
                : new ValueTask(Task.Delay(time.GetElapsedTime(now, dueTimestamp), time, cancellationToken));
        }
    }
}

/// <summary>
/// Real-time pacing on dedicated threads (one per core): each thread keeps the due times of its senders in a priority
/// queue, sleeps until the earliest, and resumes that sender's loop on itself, so the send happens at its time and not
/// whenever the thread pool gets to it. A sender's loop between two waits is short and never blocks (it formats and
/// writes one frame; a send that has to wait for the socket finishes on the pool), so one thread serves many streams.
/// </summary>
/// <remarks>
/// Sleeps have millisecond granularity; a due time less than <see cref="EarlyWindowTicks"/> away is served at once, so
/// a frame leaves at most half a millisecond early and, on an idle core, about a tenth of a millisecond late.
/// Timestamps are <see cref="Stopwatch"/>'s, which is what <see cref="TimeProvider.System"/> hands out.
/// </remarks>
internal sealed partial class ThreadFramePacer : IFramePacer, IDisposable
{
    private static readonly long EarlyWindowTicks = Stopwatch.Frequency / 2000;

    private readonly Worker[] _workers;
    private int _next;

    public ThreadFramePacer(ILogger<ThreadFramePacer> logger)
        : this(Math.Max(1, Environment.ProcessorCount), logger)
    {
    }

    public ThreadFramePacer(int threads, ILogger<ThreadFramePacer> logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _workers = [.. Enumerable.Range(0, threads).Select(i => new Worker(i, logger))];
    }

    public PacedClock CreateClock()
    {
        var worker = _workers[(int)((uint)Interlocked.Increment(ref _next) % (uint)_workers.Length)];
        return new ThreadClock(worker);
    }

    public void Dispose()
    {
        foreach (var worker in _workers)
        {
            worker.Stop();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A paced sender failed on pacing thread {Thread}")]
    private static partial void LogSenderFailed(ILogger logger, int thread, Exception exception);

    /// <summary>One pacing thread and the due times it serves.</summary>
    private sealed class Worker
    {
        // A monitor, not a Lock: the thread sleeps on it with Monitor.Wait, and Add pulses it.
        private readonly object _gate = new();
        private readonly PriorityQueue<(ThreadClock Clock, int Wait), long> _due = new();
        private readonly List<(ThreadClock Clock, int Wait)> _ready = [];
        private readonly Thread _thread;
        private readonly int _index;
        private readonly ILogger _logger;
        private bool _stopped;

        public Worker(int index, ILogger logger)
        {
            _index = index;
            _logger = logger;
            _thread = new Thread(Run)
            {
                IsBackground = true,
                Name = $"media-pacer-{index}",
                Priority = ThreadPriority.AboveNormal,
            };
            _thread.Start();
        }

        public void Add(ThreadClock clock, int wait, long dueTimestamp)
        {
            lock (_gate)
            {
                if (_stopped)
                {
                    throw new ObjectDisposedException(nameof(ThreadFramePacer));
                }

                var earliest = _due.TryPeek(out _, out var first) ? first : long.MaxValue;
                _due.Enqueue((clock, wait), dueTimestamp);
                if (dueTimestamp < earliest)
                {
                    // The thread may be asleep until a later time: let it look again.
                    Monitor.Pulse(_gate);
                }
            }
        }

        public void Stop()
        {
            lock (_gate)
            {
                _stopped = true;
                Monitor.Pulse(_gate);
            }

            _thread.Join(TimeSpan.FromSeconds(5));
            lock (_gate)
            {
                while (_due.TryDequeue(out var entry, out _))
                {
                    entry.Clock.Fire(entry.Wait, stopped: true);
                }
            }
        }

        private void Run()
        {
            while (true)
            {
                lock (_gate)
                {
                    while (true)
                    {
                        if (_stopped)
                        {
                            return;
                        }

                        if (!_due.TryPeek(out _, out var due))
                        {
                            Monitor.Wait(_gate);
                            continue;
                        }

                        var remaining = due - Stopwatch.GetTimestamp();
                        if (remaining <= EarlyWindowTicks)
                        {
                            break;
                        }

                        Monitor.Wait(_gate, Math.Max(1, (int)(remaining * 1000 / Stopwatch.Frequency)));
                    }

                    var horizon = Stopwatch.GetTimestamp() + EarlyWindowTicks;
                    while (_due.TryPeek(out _, out var next) && next <= horizon)
                    {
                        _ready.Add(_due.Dequeue());
                    }
                }

                // Outside the lock: each sender's loop runs here until its next wait, which may add to the queue.
                foreach (var (clock, wait) in _ready)
                {
                    try
                    {
                        clock.Fire(wait, stopped: false);
                    }
                    catch (Exception ex)
                    {
                        LogSenderFailed(_logger, _index, ex);
                    }
                }

                _ready.Clear();
            }
        }
    }

    /// <summary>
    /// A reusable awaitable for one sender. Completing it runs the awaiting loop's continuation synchronously on the
    /// pacing thread. Each wait has a number; a cancellation and the pacer race for it and the first wins, so a stale
    /// queue entry (its wait cancelled) fires nothing.
    /// </summary>
    private sealed class ThreadClock(Worker worker) : PacedClock, IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = false };
        private CancellationTokenRegistration _cancellation;
        private int _wait;
        private int _pending;

        public override ValueTask WaitUntilAsync(long dueTimestamp, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _core.Reset();
            var wait = ++_wait;
            Volatile.Write(ref _pending, wait);
            if (cancellationToken.CanBeCanceled)
            {
                _cancellation = cancellationToken.UnsafeRegister(
                    static (state, token) => ((ThreadClock)state!).Cancel(token), this);
            }

            worker.Add(this, wait, dueTimestamp);
            return new ValueTask(this, _core.Version);
        }

        public void Fire(int wait, bool stopped)
        {
            if (Interlocked.CompareExchange(ref _pending, 0, wait) != wait)
            {
                return;
            }

            _cancellation.Dispose();
            if (stopped)
            {
                _core.SetException(new ObjectDisposedException(nameof(ThreadFramePacer), "The media pacer stopped."));
            }
            else
            {
                _core.SetResult(true);
            }
        }

        public void GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);

        private void Cancel(CancellationToken token)
        {
            var wait = Volatile.Read(ref _pending);
            if (wait == 0 || Interlocked.CompareExchange(ref _pending, 0, wait) != wait)
            {
                return;
            }

            // Not disposing the registration here: this runs inside its callback.
            _core.SetException(new OperationCanceledException(token));
        }
    }
}
