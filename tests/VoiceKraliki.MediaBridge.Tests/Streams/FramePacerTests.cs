using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using VoiceKraliki.MediaBridge.Streams;
using VoiceKraliki.MediaBridge.Tests.Support;

namespace VoiceKraliki.MediaBridge.Tests.Streams;

/// <summary>
/// The real-time pacer: waits end at their time (never before the half-millisecond early window; lateness bounds are
/// generous, the precise figures are measured in the system test and docs/performance.md), on a pacing thread, in due
/// order; cancellation and disposal end waits cleanly.
/// </summary>
public sealed class FramePacerTests : IDisposable
{
    private readonly ThreadFramePacer _pacer = new(threads: 1, NullLogger<ThreadFramePacer>.Instance);

    public void Dispose() => _pacer.Dispose();

    private static long In(TimeSpan delay) => Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);

    [Fact]
    public async Task A_wait_ends_at_its_due_time_and_resumes_on_a_pacing_thread()
    {
        using var clock = _pacer.CreateClock();
        // Off the test framework's synchronization context, as in the service, where the sender loop runs on the pool.
        var (due, now, thread) = await Task.Run(async () =>
        {
            var due = In(TimeSpan.FromMilliseconds(100));
            await clock.WaitUntilAsync(due, CancellationToken.None);
            return (due, Stopwatch.GetTimestamp(), Thread.CurrentThread.Name);
        });

        Assert.True(now >= due - Stopwatch.Frequency / 1000, $"woke {Stopwatch.GetElapsedTime(now, due).TotalMilliseconds:F2} ms early");
        Assert.True(Stopwatch.GetElapsedTime(due, now) < TimeSpan.FromSeconds(1), "woke far too late");
        Assert.StartsWith("media-pacer-", thread);
    }

    [Fact]
    public async Task A_due_time_already_past_ends_the_wait_at_once()
    {
        using var clock = _pacer.CreateClock();
        var watch = Stopwatch.StartNew();

        await clock.WaitUntilAsync(Stopwatch.GetTimestamp() - Stopwatch.Frequency, CancellationToken.None);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Waits_of_many_clocks_end_in_due_order()
    {
        var order = new List<int>();
        // Registered together, latest first, off the test framework's synchronization context (so that each
        // continuation runs on the pacing thread); the times are taken there too, so a slow start cannot pass them.
        var waits = await Task.Run(() =>
        {
            var start = In(TimeSpan.FromMilliseconds(100));
            return Enumerable.Range(0, 20).Reverse().Select(async i =>
            {
                using var clock = _pacer.CreateClock();
                await clock.WaitUntilAsync(start + i * 2 * Stopwatch.Frequency / 1000, CancellationToken.None);

                // One pacing thread runs the continuations one after another, so this needs no lock.
                order.Add(i);
            }).ToList();
        });

        await Task.WhenAll(waits);

        Assert.Equal(Enumerable.Range(0, 20), order);
    }

    [Fact]
    public async Task One_clock_waits_again_and_again_on_an_absolute_schedule()
    {
        using var clock = _pacer.CreateClock();
        var start = Stopwatch.GetTimestamp();
        var frame = Stopwatch.Frequency / 50;
        for (var n = 1; n <= 10; n++)
        {
            await clock.WaitUntilAsync(start + n * frame, CancellationToken.None);
            Assert.True(Stopwatch.GetTimestamp() >= start + n * frame - Stopwatch.Frequency / 1000);
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        Assert.InRange(elapsed.TotalMilliseconds, 199, 1000);
    }

    [Fact]
    public async Task A_cancelled_wait_throws_and_its_queued_time_fires_nothing_later()
    {
        using var clock = _pacer.CreateClock();
        using var cancel = new CancellationTokenSource();
        var wait = clock.WaitUntilAsync(In(TimeSpan.FromMilliseconds(200)), cancel.Token).AsTask();

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);

        // The clock is reusable at once; the cancelled entry still in the queue must not end this new wait early.
        var due = In(TimeSpan.FromMilliseconds(400));
        await clock.WaitUntilAsync(due, CancellationToken.None);
        Assert.True(Stopwatch.GetTimestamp() >= due - Stopwatch.Frequency / 1000, "the cancelled wait's entry ended the next wait");
    }

    [Fact]
    public async Task A_token_cancelled_before_the_wait_throws_at_once()
    {
        using var clock = _pacer.CreateClock();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => clock.WaitUntilAsync(In(TimeSpan.FromSeconds(10)), new CancellationToken(canceled: true)).AsTask());
    }

    [Fact]
    public async Task Disposing_the_pacer_ends_pending_waits_and_refuses_new_ones()
    {
        var pacer = new ThreadFramePacer(threads: 2, NullLogger<ThreadFramePacer>.Instance);
        using var clock = pacer.CreateClock();
        var wait = clock.WaitUntilAsync(In(TimeSpan.FromMinutes(5)), CancellationToken.None).AsTask();

        pacer.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => wait).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Throws<ObjectDisposedException>(() => { _ = clock.WaitUntilAsync(In(TimeSpan.FromSeconds(1)), CancellationToken.None); });
    }

    [Fact]
    public async Task The_timer_pacer_follows_a_clock_the_test_moves()
    {
        var time = new ManualTimeProvider();
        using var clock = new TimerFramePacer(time).CreateClock();
        var wait = clock.WaitUntilAsync(time.GetTimestamp() + time.TimestampFrequency / 50, CancellationToken.None).AsTask();

        await Task.Delay(50);
        Assert.False(wait.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(20));

        await wait.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
