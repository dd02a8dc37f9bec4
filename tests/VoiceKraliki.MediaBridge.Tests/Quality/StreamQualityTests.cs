using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Streams;
using VoiceKraliki.MediaBridge.Tests.Support;

namespace VoiceKraliki.MediaBridge.Tests.Quality;

public class StreamQualityTests
{
    private sealed class Sink : IFrameReceiver
    {
        public List<TimeSpan> Released { get; } = [];

        public void Release(MediaTrack track, ReadOnlySpan<short> pcm, TimeSpan streamTime, long arrivalTimestamp) => Released.Add(streamTime);

        public void Lost(MediaTrack track, long count)
        {
        }
    }

    private static readonly short[] Speech = Enumerable.Range(0, 160).Select(i => (short)(i % 2 == 0 ? 3000 : -3000)).ToArray();

    [Fact]
    public void A_stream_with_2_percent_dropped_and_1_percent_reordered_frames_reports_exactly_that()
    {
        var time = new ManualTimeProvider();
        var sink = new Sink();
        using var audio = new InboundAudio(8000, 3, -50, time, sink);

        // 1000 frames of 20 ms; frames 25, 75, …, 975 never come (20 = 2 %); 10 pairs arrive swapped (10 frames = 1 %
        // come after a later one).
        var dropped = Enumerable.Range(0, 20).Select(i => 25 + (50 * i)).ToHashSet();
        var order = Enumerable.Range(1, 1000).ToArray();
        for (var pair = 0; pair < 10; pair++)
        {
            var at = 10 + (100 * pair) - 1;
            (order[at], order[at + 1]) = (order[at + 1], order[at]);
        }

        foreach (var chunk in order.Where(c => !dropped.Contains(c)))
        {
            time.Advance(TimeSpan.FromMilliseconds(20));
            audio.Receive(MediaTrack.Inbound, chunk, 20L * (chunk - 1), time.GetTimestamp(), Speech);
        }

        audio.Flush();
        var report = audio.Quality.TakeInterval();

        Assert.Equal(1000, report.Expected);
        Assert.Equal(980, report.Received);
        Assert.Equal(20, report.Lost);
        Assert.Equal(10, report.OutOfOrder);
        Assert.Equal(0, report.Late);
        Assert.Equal(0, report.Duplicates);
        Assert.Equal(0.02, report.PacketLossRatio, 10);
        Assert.Equal(980, sink.Released.Count);
        Assert.Equal(sink.Released.Order(), sink.Released);
    }

    [Fact]
    public void Interarrival_jitter_follows_RFC_3550_on_a_hand_computed_example()
    {
        // Media timestamps 0, 20, 40, 60 ms arriving at 0, 25, 40, 70 ms: transit 0, 5, 0, 10; D = 5, −5, 10.
        // J = 0 + (5 − 0)/16 = 0.3125; J = 0.3125 + (5 − 0.3125)/16 = 0.60546875; J = 0.60546875 + (10 − 0.60546875)/16 = 1.192626953125.
        var time = new ManualTimeProvider();
        using var audio = new InboundAudio(8000, 3, -50, time, new Sink());
        long[] arrivals = [0, 25, 40, 70];
        for (var i = 0; i < 4; i++)
        {
            audio.Receive(MediaTrack.Inbound, i + 1, 20L * i, arrivals[i] * 1000, Speech);
        }

        Assert.Equal(1.192626953125, audio.Quality.TakeInterval().JitterMilliseconds, 12);
    }

    [Fact]
    public void Frames_below_the_silence_threshold_count_as_silent()
    {
        var time = new ManualTimeProvider();
        using var audio = new InboundAudio(8000, 3, -50, time, new Sink());

        // −50 dBFS is an RMS of 103.6: a square wave of ±50 is below, of ±300 above.
        var quiet = Enumerable.Range(0, 160).Select(i => (short)(i % 2 == 0 ? 50 : -50)).ToArray();
        var loud = Enumerable.Range(0, 160).Select(i => (short)(i % 2 == 0 ? 300 : -300)).ToArray();
        audio.Receive(MediaTrack.Inbound, 1, 0, 0, quiet);
        audio.Receive(MediaTrack.Inbound, 2, 20, 0, quiet);
        audio.Receive(MediaTrack.Inbound, 3, 40, 0, quiet);
        audio.Receive(MediaTrack.Inbound, 4, 60, 0, loud);

        Assert.Equal(0.75, audio.Quality.TakeInterval().SilenceRatio);
    }

    [Fact]
    public void Each_interval_reports_only_what_happened_since_the_previous_one()
    {
        var time = new ManualTimeProvider();
        using var audio = new InboundAudio(8000, 3, -50, time, new Sink());
        for (var chunk = 1; chunk <= 10; chunk++)
        {
            audio.Receive(MediaTrack.Inbound, chunk, 20L * (chunk - 1), 0, Speech);
        }

        var first = audio.Quality.TakeInterval();
        for (var chunk = 12; chunk <= 16; chunk++)
        {
            audio.Receive(MediaTrack.Inbound, chunk, 20L * (chunk - 1), 0, Speech);
        }

        audio.Receive(MediaTrack.Inbound, 12, 220, 0, Speech);
        var second = audio.Quality.TakeInterval();

        Assert.Equal((10, 10, 0), (first.Expected, first.Received, first.Lost));
        Assert.Equal((6, 5, 1, 1), (second.Expected, second.Received, second.Lost, second.Duplicates));
        Assert.Equal(16, audio.Quality.Total.Expected);
    }

    [Fact]
    public void A_frame_that_comes_after_its_place_was_given_up_is_counted_late()
    {
        var time = new ManualTimeProvider();
        using var audio = new InboundAudio(8000, 1, -50, time, new Sink());
        audio.Receive(MediaTrack.Inbound, 1, 0, 0, Speech);
        audio.Receive(MediaTrack.Inbound, 3, 40, 0, Speech);
        audio.Receive(MediaTrack.Inbound, 4, 60, 0, Speech);

        Assert.Equal(FrameArrival.Late, audio.Receive(MediaTrack.Inbound, 2, 20, 0, Speech));
        var report = audio.Quality.TakeInterval();
        Assert.Equal((4, 4, 1, 1, 1), (report.Expected, report.Received, report.Lost, report.Late, report.OutOfOrder));
    }
}
