using VoiceKraliki.MediaBridge.Quality;
using VoiceKraliki.MediaBridge.Sinks;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>
/// A stream's decoded audio on its way in: one <see cref="JitterBuffer"/> per track puts the frames in order, and
/// <see cref="StreamQuality"/> counts how they came. Released frames go on to <c>downstream</c> (the sinks).
/// Not thread-safe: the stream serializes all calls.
/// </summary>
internal sealed class InboundAudio : IFrameReceiver, IDisposable
{
    private readonly JitterBuffer[] _buffers;
    private readonly IFrameReceiver _downstream;
    private readonly TimeProvider _time;
    private readonly int _sampleRate;
    private readonly long[] _arrivalCounts = new long[2];

    public InboundAudio(int sampleRate, int jitterBufferFrames, double silenceThresholdDbfs, TimeProvider time, IFrameReceiver downstream)
    {
        _sampleRate = sampleRate;
        _time = time;
        _downstream = downstream;
        _buffers = [new JitterBuffer(MediaTrack.Inbound, jitterBufferFrames), new JitterBuffer(MediaTrack.Outbound, jitterBufferFrames)];
        Quality = new StreamQuality(silenceThresholdDbfs);
    }

    public StreamQuality Quality { get; }

    /// <summary>Frames held back (both tracks) waiting for a missing one.</summary>
    public int Held => _buffers[0].Held + _buffers[1].Held;

    /// <summary>
    /// One media frame as it arrived. Its place in the track is its <paramref name="chunk"/> number; without one, its
    /// timestamp in 20 ms steps; without either, its arrival order. Its stream time is its timestamp; without one,
    /// its place times its length.
    /// </summary>
    public FrameArrival Receive(MediaTrack track, long? chunk, long? timestampMs, long arrivalTimestamp, ReadOnlySpan<short> pcm)
    {
        var frameMs = pcm.Length * 1000.0 / _sampleRate;
        var t = (int)track;
        _arrivalCounts[t]++;
        var index = chunk ?? (timestampMs is { } ts && frameMs > 0 ? (long)Math.Round(ts / frameMs) + 1 : _arrivalCounts[t]);
        var mediaMs = timestampMs ?? Math.Max(0, index - 1) * frameMs;
        var arrivalMs = arrivalTimestamp * 1000.0 / _time.TimestampFrequency;

        var silent = Quality.IsSilent(pcm);
        var arrival = _buffers[t].Insert(index, pcm, TimeSpan.FromMilliseconds(mediaMs), arrivalTimestamp, this);
        Quality.OnArrival(track, arrival, arrivalMs - mediaMs, silent);
        return arrival;
    }

    /// <summary>The hold timer fired: stop waiting for missing frames and play what is held.</summary>
    public void GiveUpWaiting()
    {
        _buffers[0].GiveUpWaiting(this);
        _buffers[1].GiveUpWaiting(this);
    }

    /// <summary>The stream ended: play everything held.</summary>
    public void Flush()
    {
        _buffers[0].Flush(this);
        _buffers[1].Flush(this);
    }

    public void Release(MediaTrack track, ReadOnlySpan<short> pcm, TimeSpan streamTime, long arrivalTimestamp)
    {
        Quality.OnReleased(_time.GetElapsedTime(arrivalTimestamp).TotalMilliseconds);
        _downstream.Release(track, pcm, streamTime, arrivalTimestamp);
    }

    public void Lost(MediaTrack track, long count)
    {
        Quality.OnLost(count);
        _downstream.Lost(track, count);
    }

    public void Dispose()
    {
        _buffers[0].Dispose();
        _buffers[1].Dispose();
    }
}
