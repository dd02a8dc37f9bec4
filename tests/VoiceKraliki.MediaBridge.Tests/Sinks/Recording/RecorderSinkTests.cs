using VoiceKraliki.MediaBridge.Sinks;
using static VoiceKraliki.MediaBridge.Tests.Sinks.Streams;

namespace VoiceKraliki.MediaBridge.Tests.Sinks.Recording;

public sealed class RecorderSinkTests : IDisposable
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly RecorderHarness _recorder = new();

    public void Dispose() => _recorder.Dispose();

    [Fact]
    public async Task A_mono_stream_reads_back_sample_for_sample_at_the_wire_rate()
    {
        var stream = Info(parameters: new Dictionary<string, string> { ["from"] = "+14155550100", ["to"] = "+442071838750" });
        var sink = (await _recorder.StartAsync(stream))!;
        var expected = new List<short>();
        for (var i = 0; i < 50; i++)
        {
            var frame = Frame(i);
            expected.AddRange(frame);
            await sink.OnAudioAsync(MediaTrack.Inbound, frame, Ms(20 * i), None);
        }

        await sink.OnStopAsync("stop", None);
        await sink.DisposeAsync();

        var (rate, channels, samples) = _recorder.Wav(sink.RecordingId);
        Assert.Equal(8000, rate);
        Assert.Equal(1, channels);
        Assert.Equal(expected, samples);

        var sidecar = _recorder.Sidecar(sink.RecordingId);
        Assert.Equal(stream.CallId, sidecar.CallId);
        Assert.Equal("session-1", sidecar.SessionId);
        Assert.Equal("twilio", sidecar.Provider);
        Assert.Equal(stream.StreamId, sidecar.StreamId);
        Assert.Equal("+14155550100", sidecar.From);
        Assert.Equal("+442071838750", sidecar.To);
        Assert.Equal(stream.StartedAt, sidecar.StartedAt);
        Assert.Equal(_recorder.Time.GetUtcNow(), sidecar.EndedAt);
        Assert.Equal(8000, sidecar.SampleRate);
        Assert.Equal(1, sidecar.Channels);
        Assert.Equal(["inbound"], sidecar.ChannelLayout);
        Assert.Equal(8000, sidecar.Frames);
        Assert.Equal("stop", sidecar.StopReason);
        Assert.Equal("configured-allow", sidecar.PolicyBasis);
        Assert.Equal(sink.RecordingId + ".wav", sidecar.AudioFile);
        Assert.Equal([sink.RecordingId + ".json", sink.RecordingId + ".wav"], _recorder.Folder.Files());
    }

    [Fact]
    public async Task Both_tracks_make_a_stereo_file_aligned_by_stream_time_with_silence_for_gaps()
    {
        var sink = (await _recorder.StartAsync(Info(tracks: [MediaTrack.Inbound, MediaTrack.Outbound])))!;

        // Inbound has frames 0-9 except 3 and 4 (lost); outbound starts at 100 ms and runs to 200 ms. The pipeline
        // interleaves the tracks roughly by time, outbound a little behind.
        for (var i = 0; i < 10; i++)
        {
            if (i is not (3 or 4))
            {
                await sink.OnAudioAsync(MediaTrack.Inbound, Frame(i + 1), Ms(20 * i), None);
            }

            if (i >= 6)
            {
                var j = i - 1;
                await sink.OnAudioAsync(MediaTrack.Outbound, Frame(50 + j), Ms(20 * j), None);
            }
        }

        await sink.OnAudioAsync(MediaTrack.Outbound, Frame(59), Ms(180), None);
        await sink.OnStopAsync("stop", None);
        await sink.DisposeAsync();

        var (_, channels, samples) = _recorder.Wav(sink.RecordingId);
        Assert.Equal(2, channels);
        var left = samples.Where((_, i) => i % 2 == 0).ToArray();
        var right = samples.Where((_, i) => i % 2 == 1).ToArray();
        Assert.Equal(1600, left.Length);

        var expectedLeft = new short[1600];
        var expectedRight = new short[1600];
        for (var i = 0; i < 10; i++)
        {
            if (i is not (3 or 4))
            {
                Frame(i + 1).CopyTo(expectedLeft, 160 * i);
            }

            if (i >= 5)
            {
                Frame(50 + i).CopyTo(expectedRight, 160 * i);
            }
        }

        Assert.Equal(expectedLeft, left);
        Assert.Equal(expectedRight, right);
        Assert.Equal(["inbound", "outbound"], _recorder.Sidecar(sink.RecordingId).ChannelLayout);
    }

    [Fact]
    public async Task A_track_that_never_sends_is_silence_and_does_not_hold_the_other_back()
    {
        var sink = (await _recorder.StartAsync(Info(tracks: [MediaTrack.Inbound, MediaTrack.Outbound])))!;

        for (var i = 0; i < 250; i++)
        {
            await sink.OnAudioAsync(MediaTrack.Inbound, Frame(i % 30), Ms(20 * i), None);
        }

        _recorder.Time.Advance(TimeSpan.FromSeconds(5));
        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(7), Ms(5000), None);

        // Mid-stream, the file already holds all but the last two seconds (the most one track may lead the other).
        var (_, _, written) = _recorder.Wav(sink.RecordingId);
        Assert.Equal(2 * (5020 - 2000) * 8, written.Length);
        Assert.All(written.Where((_, i) => i % 2 == 1), sample => Assert.Equal(0, sample));

        await sink.OnStopAsync("stop", None);
        await sink.DisposeAsync();
        Assert.Equal(5020 * 8, _recorder.Sidecar(sink.RecordingId).Frames);
    }

    [Fact]
    public async Task The_file_is_a_readable_wav_of_everything_up_to_the_last_flush_while_recording()
    {
        var sink = (await _recorder.StartAsync(Info()))!;
        for (var i = 0; i < 50; i++)
        {
            await sink.OnAudioAsync(MediaTrack.Inbound, Frame(i), Ms(20 * i), None);
        }

        // Nothing flushed yet: the header still says no data, the state a crash in the first second leaves.
        Assert.Empty(_recorder.Wav(sink.RecordingId).Samples);

        _recorder.Time.Advance(_recorder.Options.FlushInterval);
        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(50), Ms(1000), None);

        var (rate, _, samples) = _recorder.Wav(sink.RecordingId);
        Assert.Equal(8000, rate);
        Assert.Equal(51 * 160, samples.Length);
        Assert.Equal(Frame(50), samples[^160..]);

        // The first sidecar is there from the start, with the numbers an erasure request looks for.
        Assert.Null(_recorder.Sidecar(sink.RecordingId).EndedAt);
        await sink.DisposeAsync();
    }

    [Fact]
    public async Task Duplicate_late_and_jittered_frames_keep_the_timeline()
    {
        var sink = (await _recorder.StartAsync(Info()))!;
        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(1), Ms(0), None);
        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(1), Ms(0), None); // duplicate
        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(2), Ms(21), None); // 1 ms of jitter: contiguous, no click
        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(3), Ms(30), None); // overlaps half of frame 2: only its second half is new
        await sink.OnStopAsync("stop", None);
        await sink.DisposeAsync();

        var samples = _recorder.Wav(sink.RecordingId).Samples;
        Assert.Equal([.. Frame(1), .. Frame(2), .. Frame(3)[80..]], samples);
    }

    [Theory]
    [InlineData("../../etc/passwd", "MZ1")]
    [InlineData("CA1", "..\\..\\windows\\system32")]
    [InlineData("/absolute/path", "x/../../y")]
    [InlineData("v3:AbC_dEf==", "stream id with spaces and ünïcode")]
    [InlineData("", ".")]
    public async Task Hostile_ids_only_ever_name_a_plain_file_in_the_recordings_folder(string callId, string streamId)
    {
        var recordingId = await _recorder.RecordAsync(Info(callId: callId, streamId: streamId));

        Assert.Matches("^twilio_[A-Za-z0-9-]+_[A-Za-z0-9-]+$", recordingId);
        Assert.Equal([recordingId + ".json", recordingId + ".wav"], _recorder.Folder.Files());
        Assert.Equal(["recordings"], Directory.GetFileSystemEntries(_recorder.Folder.Root).Select(Path.GetFileName));
        Assert.Equal(callId, _recorder.Sidecar(recordingId).CallId);
        Assert.Equal(streamId, _recorder.Sidecar(recordingId).StreamId);
    }

    [Fact]
    public async Task Ids_that_differ_only_in_unsafe_characters_get_different_files()
    {
        var first = await _recorder.RecordAsync(Info(callId: "a/b", streamId: "s"));
        var second = await _recorder.RecordAsync(Info(callId: "a:b", streamId: "s"));
        var third = await _recorder.RecordAsync(Info(callId: "a-b", streamId: "s"));

        Assert.Equal(3, new[] { first, second, third }.Distinct().Count());
        Assert.Equal(6, _recorder.Folder.Files().Length);
    }

    [Fact]
    public async Task The_same_stream_recorded_twice_gets_a_second_file()
    {
        var first = await _recorder.RecordAsync(Info());
        var second = await _recorder.RecordAsync(Info());

        Assert.NotEqual(first, second);
        Assert.StartsWith(first, second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposed_without_a_stop_the_recording_is_still_finished()
    {
        var sink = (await _recorder.StartAsync(Info()))!;
        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(1), Ms(0), None);
        await sink.DisposeAsync();

        Assert.Equal(Frame(1), _recorder.Wav(sink.RecordingId).Samples);
        Assert.Equal(160, _recorder.Sidecar(sink.RecordingId).Frames);
        Assert.NotNull(_recorder.Sidecar(sink.RecordingId).EndedAt);
    }

    [Fact]
    public async Task A_recording_erased_while_it_is_made_keeps_nothing()
    {
        var stream = Info();
        var sink = (await _recorder.StartAsync(stream))!;
        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(1), Ms(0), None);

        Assert.Equal(1, await _recorder.Store.DeleteByCallOrRecordingIdAsync(stream.CallId, None));
        Assert.Empty(_recorder.Folder.Files());

        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(2), Ms(20), None);
        await sink.OnStopAsync("stop", None);
        await sink.DisposeAsync();
        Assert.Empty(_recorder.Folder.Files());
    }

    [Fact]
    public async Task A_folder_that_cannot_be_created_means_no_recording_not_a_failed_stream()
    {
        var blocker = Path.Combine(_recorder.Folder.Root, "blocker");
        File.WriteAllText(blocker, "a file where a folder should be");
        using var blocked = new RecorderHarness(directory: Path.Combine(blocker, "recordings"));

        Assert.Null(await blocked.StartAsync(Info()));
    }
}
