using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.MediaBridge.Sinks.Recording;

/// <summary>
/// Lays each track's frames on one timeline by their stream time and writes whole WAV frames (one sample per channel)
/// as soon as every channel has them: a gap becomes silence, a frame that overlaps what a track already has loses the
/// overlap, and a few samples of timestamp jitter are absorbed rather than turned into clicks. A channel whose track
/// falls more than <see cref="MaxSkew"/> behind the other is written as silence up to there, so a track that never
/// sends holds nothing back for long. Owns no file; writes to the <see cref="WavWriter"/> it is given. Not thread-safe.
/// </summary>
internal sealed class TrackAligner
{
    /// <summary>How far one track may run ahead of the other before the other is assumed silent.</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromSeconds(2);

    /// <summary>A jump forward larger than this is a broken timestamp, not a gap: the frame is taken as contiguous.</summary>
    public static readonly TimeSpan MaxGap = TimeSpan.FromMinutes(10);

    /// <summary>Timestamp differences up to this are jitter (Twilio's timestamps are whole milliseconds).</summary>
    public static readonly TimeSpan Jitter = TimeSpan.FromMilliseconds(2);

    private const int ScratchFrames = 1024;

    private readonly WavWriter _writer;
    private readonly int _sampleRate;
    private readonly ChannelBuffer[] _channels;
    private readonly long _maxSkew;
    private readonly long _maxGap;
    private readonly long _jitter;
    private readonly int _maxPiece;
    private readonly short[] _interleaved;
    private long _written;

    /// <param name="layout">The track of each channel, left first.</param>
    public TrackAligner(WavWriter writer, IReadOnlyList<MediaTrack> layout)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(layout.Count, writer.Channels);
        _writer = writer;
        _sampleRate = writer.SampleRate;
        _maxSkew = Samples(MaxSkew);
        _maxGap = Samples(MaxGap);
        _jitter = Samples(Jitter);

        // The ring holds what is not written yet: at most the skew, plus one piece of a frame.
        var capacity = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(2 * _maxSkew));
        _maxPiece = capacity / 4;
        _channels = layout.Select(track => new ChannelBuffer(track, capacity)).ToArray();
        _interleaved = new short[ScratchFrames * layout.Count];
    }

    /// <summary>Frames (samples per channel) written to the file so far.</summary>
    public long FramesWritten => _written;

    /// <summary>Samples dropped because their place was already filled or written (duplicates, very late frames).</summary>
    public long LateSamples { get; private set; }

    /// <summary>Silence inserted for gaps in a track.</summary>
    public long GapSamples { get; private set; }

    /// <summary>Timestamp jumps beyond <see cref="MaxGap"/> that were ignored.</summary>
    public int Discontinuities { get; private set; }

    /// <summary>Frames of a track that has no channel in this file.</summary>
    public long IgnoredFrames { get; private set; }

    public void Write(MediaTrack track, ReadOnlySpan<short> pcm, TimeSpan streamTime)
    {
        ChannelBuffer? state = null;
        foreach (var channel in _channels)
        {
            if (channel.Track == track)
            {
                state = channel;
            }
        }

        if (state is null)
        {
            IgnoredFrames++;
            return;
        }

        var start = Samples(streamTime < TimeSpan.Zero ? TimeSpan.Zero : streamTime);
        var drift = start - state.End;
        if (Math.Abs(drift) <= _jitter)
        {
            start = state.End;
        }
        else if (drift > _maxGap)
        {
            Discontinuities++;
            start = state.End;
        }

        while (!pcm.IsEmpty)
        {
            var piece = pcm[..Math.Min(pcm.Length, _maxPiece)];
            Place(state, start, piece);
            start += piece.Length;
            pcm = pcm[piece.Length..];
        }

        WriteUpTo(Frontier());
    }

    /// <summary>Writes everything every track has, padding the shorter ones with silence.</summary>
    public void Drain() => WriteUpTo(_channels.Max(c => c.End));

    private void Place(ChannelBuffer track, long start, ReadOnlySpan<short> pcm)
    {
        var overlap = track.End - start;
        if (overlap >= pcm.Length)
        {
            LateSamples += pcm.Length;
            return;
        }

        if (overlap > 0)
        {
            LateSamples += overlap;
            pcm = pcm[(int)overlap..];
            start = track.End;
        }

        var end = start + pcm.Length;
        if (end - _written > track.Ring.Length)
        {
            // A gap longer than the ring: what lies before it is final, whatever the other track still sends.
            WriteUpTo(end - track.Ring.Length);
        }

        if (start > track.End)
        {
            GapSamples += start - track.End;
            track.Clear(track.End, start - track.End);
        }

        track.CopyIn(start, pcm);
        track.End = end;
    }

    /// <summary>How far the file can be written now: where the slowest track is, but never more than the skew behind the fastest.</summary>
    private long Frontier()
    {
        long slowest = long.MaxValue, fastest = 0;
        foreach (var channel in _channels)
        {
            slowest = Math.Min(slowest, channel.End);
            fastest = Math.Max(fastest, channel.End);
        }

        return Math.Max(slowest, fastest - _maxSkew);
    }

    private void WriteUpTo(long frame)
    {
        var channels = _channels.Length;
        while (_written < frame)
        {
            var count = (int)Math.Min(frame - _written, ScratchFrames);
            for (var c = 0; c < channels; c++)
            {
                var track = _channels[c];
                var available = (int)Math.Clamp(track.End - _written, 0, count);
                var mask = track.Ring.Length - 1;
                for (var i = 0; i < count; i++)
                {
                    _interleaved[(i * channels) + c] = i < available ? track.Ring[(int)((_written + i) & mask)] : (short)0;
                }
            }

            _writer.Write(_interleaved.AsSpan(0, count * channels));
            _written += count;
        }

        foreach (var track in _channels)
        {
            // A track that was behind is now silent up to here; its late frames for this stretch are dropped.
            track.End = Math.Max(track.End, _written);
        }
    }

    private long Samples(TimeSpan time) => (long)((Int128)time.Ticks * _sampleRate / TimeSpan.TicksPerSecond);

    /// <summary>One channel: a ring of samples by absolute position, holding those from the written frontier to <see cref="End"/>.</summary>
    private sealed class ChannelBuffer(MediaTrack track, int capacity)
    {
        public MediaTrack Track { get; } = track;

        public short[] Ring { get; } = new short[capacity];

        /// <summary>The position after the last sample this track has (received, or silence assumed).</summary>
        public long End { get; set; }

        public void CopyIn(long position, ReadOnlySpan<short> samples)
        {
            var offset = (int)(position & (Ring.Length - 1));
            var first = Math.Min(samples.Length, Ring.Length - offset);
            samples[..first].CopyTo(Ring.AsSpan(offset));
            samples[first..].CopyTo(Ring);
        }

        public void Clear(long position, long count)
        {
            var offset = (int)(position & (Ring.Length - 1));
            var length = (int)Math.Min(count, Ring.Length);
            var first = Math.Min(length, Ring.Length - offset);
            Ring.AsSpan(offset, first).Clear();
            Ring.AsSpan(0, length - first).Clear();
        }
    }
}
