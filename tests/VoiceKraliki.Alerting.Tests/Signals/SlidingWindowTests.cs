using VoiceKraliki.Alerting.Signals;

namespace VoiceKraliki.Alerting.Tests.Signals;

/// <summary>The one-second buckets under every rate and mean.</summary>
public sealed class SlidingWindowTests
{
    private const long T = 1_800_000_000;

    private static double[] Sum(SlidingWindow window, long now)
    {
        var sums = new double[window.Fields];
        window.Sum(now, sums);
        return sums;
    }

    [Fact]
    public void A_window_sums_the_last_n_seconds_including_the_current_one()
    {
        var window = new SlidingWindow(TimeSpan.FromSeconds(60), 2);
        window.Add(T, [1, 10]);
        window.Add(T + 30, [2, 20]);
        window.Add(T + 59, [4, 40]);

        Assert.Equal([7, 70], Sum(window, T + 59));
        // At T + 60 the first second has left the window; at T + 89 the second; at T + 119 the last.
        Assert.Equal([6, 60], Sum(window, T + 60));
        Assert.Equal([6, 60], Sum(window, T + 89));
        Assert.Equal([4, 40], Sum(window, T + 90));
        Assert.Equal([0, 0], Sum(window, T + 119));
    }

    [Fact]
    public void Events_of_the_same_second_add_up_and_a_reused_bucket_starts_empty()
    {
        var window = new SlidingWindow(TimeSpan.FromSeconds(10), 1);
        window.Add(T, [1]);
        window.Add(T, [1]);
        Assert.Equal([2], Sum(window, T));

        // T + 10 falls in T's bucket: the old second is cleared, not added to.
        window.Add(T + 10, [5]);
        Assert.Equal([5], Sum(window, T + 10));
    }

    [Fact]
    public void A_second_the_window_has_moved_past_is_refused_and_a_future_one_is_not_summed_yet()
    {
        var window = new SlidingWindow(TimeSpan.FromSeconds(10), 1);
        window.Add(T + 10, [1]);

        Assert.False(window.Add(T, [100]));
        Assert.Equal([1], Sum(window, T + 10));
        Assert.Equal([0], Sum(window, T + 9));
    }

    [Fact]
    public void A_window_of_a_fraction_of_a_second_more_rounds_up_to_whole_buckets() =>
        Assert.Equal(3, new SlidingWindow(TimeSpan.FromSeconds(2.5), 1).Length);
}
