using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Streams;

namespace VoiceKraliki.MediaBridge.Tests.Streams;

public class JitterBufferTests
{
    private sealed class Recorder : IFrameReceiver
    {
        public List<short> Released { get; } = [];

        public List<TimeSpan> Times { get; } = [];

        public long LostCount { get; private set; }

        public void Release(MediaTrack track, ReadOnlySpan<short> pcm, TimeSpan streamTime, long arrivalTimestamp)
        {
            Released.Add(pcm[0]);
            Times.Add(streamTime);
        }

        public void Lost(MediaTrack track, long count) => LostCount += count;
    }

    private static FrameArrival Put(JitterBuffer buffer, Recorder recorder, long index) =>
        buffer.Insert(index, [(short)index], TimeSpan.FromMilliseconds(20 * (index - 1)), 0, recorder);

    [Fact]
    public void Frames_in_order_are_released_at_once()
    {
        using var buffer = new JitterBuffer(MediaTrack.Inbound, 3);
        var recorder = new Recorder();

        for (var i = 1; i <= 5; i++)
        {
            Assert.Equal(FrameArrival.InOrder, Put(buffer, recorder, i));
            Assert.Equal(i, recorder.Released.Count);
        }

        Assert.Equal(0, buffer.Held);
    }

    [Fact]
    public void A_frame_that_overtook_another_waits_for_it_and_both_are_released_in_order()
    {
        using var buffer = new JitterBuffer(MediaTrack.Inbound, 3);
        var recorder = new Recorder();
        Put(buffer, recorder, 1);

        Assert.Equal(FrameArrival.InOrder, Put(buffer, recorder, 3));
        Assert.Equal(1, buffer.Held);
        Assert.Equal(FrameArrival.OutOfOrder, Put(buffer, recorder, 2));

        Assert.Equal([1, 2, 3], recorder.Released);
        Assert.Equal(0, recorder.LostCount);
    }

    [Fact]
    public void A_missing_frame_is_given_up_when_one_frame_more_than_the_depth_is_waiting()
    {
        using var buffer = new JitterBuffer(MediaTrack.Inbound, 3);
        var recorder = new Recorder();
        Put(buffer, recorder, 1);

        Put(buffer, recorder, 3);
        Put(buffer, recorder, 4);
        Put(buffer, recorder, 5);
        Assert.Equal([1], recorder.Released);
        Assert.Equal(3, buffer.Held);

        Put(buffer, recorder, 6);
        Assert.Equal([1, 3, 4, 5, 6], recorder.Released);
        Assert.Equal(1, recorder.LostCount);

        // The gap stays visible in stream time: nothing is invented for frame 2.
        Assert.Equal(TimeSpan.FromMilliseconds(40), recorder.Times[1]);
    }

    [Fact]
    public void A_frame_whose_place_was_given_up_is_late_and_dropped()
    {
        using var buffer = new JitterBuffer(MediaTrack.Inbound, 1);
        var recorder = new Recorder();
        Put(buffer, recorder, 1);
        Put(buffer, recorder, 3);
        Put(buffer, recorder, 4);

        Assert.Equal(FrameArrival.Late, Put(buffer, recorder, 2));
        Assert.Equal([1, 3, 4], recorder.Released);
        Assert.Equal(1, recorder.LostCount);
    }

    [Fact]
    public void The_same_frame_twice_is_a_duplicate_whether_played_or_held()
    {
        using var buffer = new JitterBuffer(MediaTrack.Inbound, 3);
        var recorder = new Recorder();
        Put(buffer, recorder, 1);
        Put(buffer, recorder, 3);

        Assert.Equal(FrameArrival.Duplicate, Put(buffer, recorder, 1));
        Assert.Equal(FrameArrival.Duplicate, Put(buffer, recorder, 3));
        Put(buffer, recorder, 2);
        Assert.Equal([1, 2, 3], recorder.Released);
    }

    [Fact]
    public void Giving_up_waiting_counts_the_gap_and_plays_what_is_held()
    {
        using var buffer = new JitterBuffer(MediaTrack.Inbound, 3);
        var recorder = new Recorder();
        Put(buffer, recorder, 1);
        Put(buffer, recorder, 4);
        Put(buffer, recorder, 5);

        buffer.GiveUpWaiting(recorder);

        Assert.Equal([1, 4, 5], recorder.Released);
        Assert.Equal(2, recorder.LostCount);
        Assert.Equal(0, buffer.Held);
        Assert.Equal(FrameArrival.Late, Put(buffer, recorder, 3));
    }

    [Fact]
    public void Flush_plays_every_held_frame_across_several_gaps()
    {
        using var buffer = new JitterBuffer(MediaTrack.Inbound, 5);
        var recorder = new Recorder();
        Put(buffer, recorder, 1);
        Put(buffer, recorder, 3);
        Put(buffer, recorder, 6);

        buffer.Flush(recorder);

        Assert.Equal([1, 3, 6], recorder.Released);
        Assert.Equal(3, recorder.LostCount);
    }

    [Fact]
    public void The_first_frames_may_arrive_out_of_order_too()
    {
        using var buffer = new JitterBuffer(MediaTrack.Inbound, 3);
        var recorder = new Recorder();

        Put(buffer, recorder, 2);
        Put(buffer, recorder, 1);

        Assert.Equal([1, 2], recorder.Released);
        Assert.Equal(0, recorder.LostCount);
    }

    [Fact]
    public void A_jump_in_numbering_beyond_a_minute_restarts_the_count_instead_of_losing_thousands_of_frames()
    {
        using var buffer = new JitterBuffer(MediaTrack.Inbound, 3);
        var recorder = new Recorder();
        Put(buffer, recorder, 1);
        Put(buffer, recorder, 2);

        Assert.Equal(FrameArrival.InOrder, Put(buffer, recorder, 1_000_000));
        Put(buffer, recorder, 1_000_001);

        Assert.Equal(4, recorder.Released.Count);
        Assert.Equal(0, recorder.LostCount);
    }

    [Fact]
    public void With_depth_zero_every_frame_plays_as_it_comes_and_an_overtaken_one_is_late()
    {
        using var buffer = new JitterBuffer(MediaTrack.Inbound, 0);
        var recorder = new Recorder();
        Put(buffer, recorder, 1);
        Put(buffer, recorder, 3);

        Assert.Equal(FrameArrival.Late, Put(buffer, recorder, 2));
        Assert.Equal([1, 3], recorder.Released);
        Assert.Equal(1, recorder.LostCount);
    }
}
