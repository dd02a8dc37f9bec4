using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Streams;
using VoiceKraliki.MediaBridge.Tests.Support;
using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.MediaBridge.Tests.Streams;

/// <summary>The way back to the provider, on a clock the test moves: exact schedules, no timing asserts.</summary>
public sealed class ProviderOutputTests : IAsyncDisposable
{
    private readonly ManualTimeProvider _time = new();
    private readonly FakeSender _sender;
    private readonly ConcurrentQueue<string> _droppedMarks = new();
    private readonly ProviderOutput _output;

    public ProviderOutputTests()
    {
        _sender = new FakeSender(_time);
        _output = Create(TimeSpan.Zero);
    }

    private ProviderOutput Create(TimeSpan playoutDelay)
    {
        var output = new ProviderOutput(_sender, WireEncoding.MuLaw, 8000, TimeSpan.FromSeconds(1), playoutDelay, _time,
            new TimerFramePacer(_time).CreateClock(), markDropped: _droppedMarks.Enqueue, frameSent: _ => { }, NullLogger.Instance);
        output.Start();
        return output;
    }

    /// <summary>Moves the clock in 5 ms steps to <paramref name="until"/> (ms), queueing one frame at each listed time.</summary>
    private async Task PlayAsync(ProviderOutput output, int until, params int[] queueAt)
    {
        for (var t = (int)_time.Elapsed.TotalMilliseconds; t < until; t += 5)
        {
            foreach (var _ in queueAt.Where(q => q == t))
            {
                await output.SendAudioAsync(Samples(160), 8000, CancellationToken.None);
            }

            await Settle();
            _time.Advance(TimeSpan.FromMilliseconds(5));
        }

        await Settle();
    }

    public async ValueTask DisposeAsync() => await _output.DisposeAsync();

    private sealed class FakeSender(ManualTimeProvider time) : IProviderSender
    {
        public ConcurrentQueue<(TimeSpan At, string Kind, byte[] Payload, string? Name)> Sent { get; } = new();

        public ValueTask SendMediaAsync(ReadOnlyMemory<byte> audio, CancellationToken cancellationToken)
        {
            Sent.Enqueue((time.Elapsed, "media", audio.ToArray(), null));
            return ValueTask.CompletedTask;
        }

        public ValueTask SendMarkAsync(string name, CancellationToken cancellationToken)
        {
            Sent.Enqueue((time.Elapsed, "mark", [], name));
            return ValueTask.CompletedTask;
        }

        public ValueTask SendClearAsync(CancellationToken cancellationToken)
        {
            Sent.Enqueue((time.Elapsed, "clear", [], null));
            return ValueTask.CompletedTask;
        }

        public int Media => Sent.Count(s => s.Kind == "media");
    }

    private static short[] Samples(int count, short value = 1000)
    {
        var samples = new short[count];
        Array.Fill(samples, value);
        return samples;
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(what);
            }

            await Task.Delay(5);
        }
    }

    /// <summary>Lets the sender run on the real thread pool without moving the test clock, to see that nothing more happens.</summary>
    private static Task Settle() => Task.Delay(50);

    [Fact]
    public async Task Frames_go_out_on_an_absolute_20_ms_schedule_never_before_their_time()
    {
        await _output.SendAudioAsync(Samples(10 * 160), 8000, CancellationToken.None);
        await Eventually(() => _sender.Media == 1, "the first frame");

        for (var n = 1; n < 10; n++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(19));
            await Settle();
            Assert.Equal(n, _sender.Media);
            _time.Advance(TimeSpan.FromMilliseconds(1));
            await Eventually(() => _sender.Media == n + 1, $"frame {n}");
        }

        Assert.Equal(Enumerable.Range(0, 10).Select(n => TimeSpan.FromMilliseconds(20 * n)), _sender.Sent.Select(s => s.At));
        Assert.All(_sender.Sent, s => Assert.Equal(160, s.Payload.Length));
        Assert.All(_sender.Sent.SelectMany(s => s.Payload), b => Assert.Equal(G711.EncodeMuLaw(1000), b));
    }

    [Fact]
    public async Task Audio_that_does_not_fill_a_frame_waits_for_more_and_no_empty_or_short_frame_is_sent()
    {
        await _output.SendAudioAsync(Samples(100), 8000, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        await Settle();
        Assert.Empty(_sender.Sent);

        await _output.SendAudioAsync(Samples(60), 8000, CancellationToken.None);
        await Eventually(() => _sender.Media == 1, "the completed frame");
        Assert.Equal(160, _sender.Sent.Single().Payload.Length);
    }

    [Fact]
    public async Task A_mark_completes_a_partial_frame_with_silence_and_follows_the_audio()
    {
        await _output.SendAudioAsync(Samples(200), 8000, CancellationToken.None);
        await _output.SendMarkAsync("done", CancellationToken.None);
        await Eventually(() => _sender.Media == 1, "the first frame");
        _time.Advance(TimeSpan.FromMilliseconds(20));
        await Eventually(() => _sender.Sent.Count == 3, "the second frame and the mark");

        var sent = _sender.Sent.ToArray();
        Assert.Equal(["media", "media", "mark"], sent.Select(s => s.Kind));
        Assert.Equal("done", sent[2].Name);
        var second = sent[1].Payload;
        Assert.Equal(160, second.Length);
        Assert.All(second[..40], b => Assert.Equal(G711.EncodeMuLaw(1000), b));
        Assert.All(second[40..], b => Assert.Equal(G711.EncodeMuLaw(0), b));
    }

    [Fact]
    public async Task Audio_at_16_kHz_is_resampled_to_the_8_kHz_wire()
    {
        await _output.SendAudioAsync(Samples(3 * 320, 0), 16000, CancellationToken.None);
        await Eventually(() => _sender.Media == 1, "the first frame");
        _time.Advance(TimeSpan.FromMilliseconds(40));
        await Eventually(() => _sender.Media == 3, "three frames");

        Assert.All(_sender.Sent, s => Assert.Equal(160, s.Payload.Length));
    }

    [Fact]
    public async Task Clear_drops_the_queue_including_the_frame_waiting_for_its_time_and_hands_back_queued_marks()
    {
        await _output.SendAudioAsync(Samples(10 * 160), 8000, CancellationToken.None);
        await _output.SendMarkAsync("end-of-turn", CancellationToken.None);
        await Eventually(() => _sender.Media == 1, "the first frame");

        await _output.ClearAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(500));
        await Settle();

        Assert.Equal(["media", "clear"], _sender.Sent.Select(s => s.Kind));
        Assert.Equal(["end-of-turn"], _droppedMarks);
    }

    [Fact]
    public async Task After_the_queue_runs_dry_the_next_audio_starts_a_new_schedule_at_once()
    {
        await _output.SendAudioAsync(Samples(160), 8000, CancellationToken.None);
        await Eventually(() => _sender.Media == 1, "the first frame");
        _time.Advance(TimeSpan.FromMilliseconds(1000));
        await Settle();

        await _output.SendAudioAsync(Samples(320), 8000, CancellationToken.None);
        await Eventually(() => _sender.Media == 2, "the second run's first frame");
        _time.Advance(TimeSpan.FromMilliseconds(20));
        await Eventually(() => _sender.Media == 3, "the second run's second frame");

        Assert.Equal(new[] { 0, 1000, 1020 }.Select(ms => TimeSpan.FromMilliseconds(ms)), _sender.Sent.Select(s => s.At));
    }

    [Fact]
    public async Task When_a_second_of_audio_is_queued_the_sink_waits_for_room_instead_of_anything_being_dropped()
    {
        await _output.SendAudioAsync(Samples(60 * 160), 8000, CancellationToken.None);
        await Eventually(() => _sender.Media == 1, "the first frame");

        var more = _output.SendAudioAsync(Samples(160), 8000, CancellationToken.None).AsTask();
        await Settle();
        Assert.False(more.IsCompleted);

        for (var i = 0; i < 10 && !more.IsCompleted; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(20));
            await Settle();
        }

        await more.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(_sender.Media <= 12);
    }

    [Fact]
    public async Task Audio_trickling_in_real_time_gets_the_playout_delay_as_head_start_then_one_frame_every_20_ms_despite_its_jitter()
    {
        await using var output = Create(TimeSpan.FromMilliseconds(60));

        // Frame k is queued at 20·k ms plus up to 50 ms of jitter (and two arrive together).
        await PlayAsync(output, until: 400, queueAt: [0, 25, 50, 60, 120, 130, 130, 170, 200, 215]);

        Assert.Equal(Enumerable.Range(0, 10).Select(k => TimeSpan.FromMilliseconds(60 + 20 * k)), _sender.Sent.Select(s => s.At));
    }

    [Fact]
    public async Task Audio_queued_faster_than_real_time_starts_at_once()
    {
        await using var output = Create(TimeSpan.FromMilliseconds(60));

        await output.SendAudioAsync(Samples(5 * 160), 8000, CancellationToken.None);
        await PlayAsync(output, until: 100);

        Assert.Equal(new[] { 0, 20, 40, 60, 80 }.Select(ms => TimeSpan.FromMilliseconds(ms)), _sender.Sent.Select(s => s.At));
    }

    [Fact]
    public async Task A_frame_that_comes_after_its_slot_starts_a_new_run_with_a_new_head_start_instead_of_being_rushed()
    {
        await using var output = Create(TimeSpan.FromMilliseconds(60));

        // Frame 1's slot is 80 ms; it comes at 100: a new run from 160. Frame 2 is then in time for its slot (180).
        await PlayAsync(output, until: 300, queueAt: [0, 100, 170]);

        Assert.Equal(new[] { 60, 160, 180 }.Select(ms => TimeSpan.FromMilliseconds(ms)), _sender.Sent.Select(s => s.At));
    }
}
