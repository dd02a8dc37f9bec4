using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.MediaBridge.Sinks.Recording;

/// <summary>
/// Records one stream into one WAV file: PCM16 at the wire rate, inbound on the left and outbound on the right when
/// the stream has both tracks. The WAV header is brought up to date every <see cref="RecordingOptions.FlushInterval"/>
/// (on the next frame after it), so a crash leaves a file that plays up to there; stopping finalizes file and sidecar.
/// If the recording is erased while it runs, the sink stops writing and keeps nothing.
/// </summary>
internal sealed partial class RecorderSink : IMediaSink
{
    private readonly RecordingStore _store;
    private readonly ActiveRecording _recording;
    private readonly WavWriter _wav;
    private readonly TrackAligner _aligner;
    private readonly TimeProvider _time;
    private readonly TimeSpan _flushInterval;
    private readonly ILogger _logger;
    private long _lastFlush;
    private bool _closed;

    public RecorderSink(
        RecordingStore store,
        ActiveRecording recording,
        IReadOnlyList<MediaTrack> layout,
        int sampleRate,
        TimeProvider time,
        TimeSpan flushInterval,
        ILogger logger)
    {
        _store = store;
        _recording = recording;
        _wav = new WavWriter(recording.Audio, sampleRate, layout.Count);
        _aligner = new TrackAligner(_wav, layout);
        _time = time;
        _flushInterval = flushInterval;
        _logger = logger;

        // From the first moment the file on disk is a valid (empty) WAV, not a header sitting in a buffer.
        _wav.Flush();
        _lastFlush = time.GetTimestamp();
    }

    public string Name => "recorder";

    public string RecordingId => _recording.RecordingId;

    public ValueTask OnAudioAsync(MediaTrack track, ReadOnlyMemory<short> pcm, TimeSpan streamTime, CancellationToken cancellationToken)
    {
        if (_closed)
        {
            return ValueTask.CompletedTask;
        }

        if (_recording.IsErased)
        {
            Close("erased while recording");
            return ValueTask.CompletedTask;
        }

        var discontinuities = _aligner.Discontinuities;
        _aligner.Write(track, pcm.Span, streamTime);
        if (_aligner.Discontinuities != discontinuities)
        {
            LogDiscontinuity(_logger, _recording.RecordingId, track, streamTime);
        }

        if (_time.GetElapsedTime(_lastFlush) >= _flushInterval)
        {
            _wav.Flush();
            _lastFlush = _time.GetTimestamp();
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask OnDtmfAsync(string digit, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask OnMarkAsync(string name, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask OnStopAsync(string reason, CancellationToken cancellationToken)
    {
        Close(reason);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        // Disposed without a stop: the pipeline dropped us (we threw) or the stream broke; keep what we have.
        Close("disposed before the stream stopped");
        return ValueTask.CompletedTask;
    }

    private void Close(string reason)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        try
        {
            if (!_recording.IsErased)
            {
                _aligner.Drain();
            }

            _wav.Dispose();
        }
        catch (IOException ex)
        {
            // The disk is full or gone: the file keeps what its last flush described.
            LogWriteFailed(_logger, _recording.RecordingId, ex.Message);
        }
        finally
        {
            _recording.Audio.Dispose();
        }

        if (_recording.IsErased)
        {
            _store.Abandon(_recording);
            LogErased(_logger, _recording.RecordingId);
            return;
        }

        try
        {
            _store.Complete(_recording, _recording.Sidecar with
            {
                EndedAt = _time.GetUtcNow(),
                StopReason = reason,
                Frames = _aligner.FramesWritten,
            });
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The first sidecar (written at the start) still names the call and its numbers.
            LogWriteFailed(_logger, _recording.RecordingId, ex.Message);
        }

        LogFinished(_logger, _recording.RecordingId, _aligner.FramesWritten,
            TimeSpan.FromSeconds((double)_aligner.FramesWritten / _wav.SampleRate), _aligner.GapSamples, _aligner.LateSamples, reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recording {RecordingId} finished: {Frames} frames ({Duration}), {GapSamples} samples of gaps filled with silence, {LateSamples} late samples dropped ({Reason})")]
    private static partial void LogFinished(ILogger logger, string recordingId, long frames, TimeSpan duration, long gapSamples, long lateSamples, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Recording {RecordingId} was erased while it was being made; nothing of it is kept")]
    private static partial void LogErased(ILogger logger, string recordingId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording {RecordingId}: {Track} jumped to {StreamTime}, further than a gap can be; taken as contiguous")]
    private static partial void LogDiscontinuity(ILogger logger, string recordingId, MediaTrack track, TimeSpan streamTime);

    [LoggerMessage(Level = LogLevel.Error, Message = "Recording {RecordingId} could not be finished: {Error}")]
    private static partial void LogWriteFailed(ILogger logger, string recordingId, string error);
}
