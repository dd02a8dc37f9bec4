using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Streams;

namespace VoiceKraliki.MediaBridge.Quality;

/// <summary>One reporting interval of a stream's quality (see docs/media-bridge.md for every definition).</summary>
/// <param name="Expected">Frame places resolved in the interval: played plus lost.</param>
/// <param name="Received">Frames that arrived, late ones included, duplicates not.</param>
/// <param name="Lost">Places the reorder buffer gave up on (nothing had arrived for them in time).</param>
/// <param name="Late">Frames that arrived after their place was played or given up (so also counted lost).</param>
/// <param name="OutOfOrder">Frames older than one that arrived before them (late ones included).</param>
/// <param name="JitterMilliseconds">RFC 3550 interarrival jitter at the end of the interval (the larger of the two tracks').</param>
/// <param name="MeanDelayMilliseconds">Mean time from a frame's arrival to its release from the reorder buffer.</param>
internal readonly record struct QualitySnapshot(
    long Expected,
    long Received,
    long Lost,
    long Late,
    long OutOfOrder,
    long Duplicates,
    long Silent,
    double JitterMilliseconds,
    double MeanDelayMilliseconds)
{
    public double PacketLossRatio => Expected > 0 ? (double)Lost / Expected : 0;

    public double SilenceRatio => Received > 0 ? (double)Silent / Received : 0;

    public double EstimatedMos => MosEstimator.Estimate(PacketLossRatio, JitterMilliseconds, MeanDelayMilliseconds);
}

/// <summary>
/// A stream's quality counters: what arrived and how (from its <see cref="JitterBuffer"/>s), RFC 3550 interarrival
/// jitter per track, silence, and the delay the reorder buffer added. <see cref="TakeInterval"/> returns the change since
/// the previous call. Not thread-safe: the stream serializes all calls.
/// </summary>
internal sealed class StreamQuality
{
    private readonly double _silenceMeanSquare;
    private readonly double[] _jitter = new double[2];
    private readonly double[] _lastTransit = new double[2];
    private readonly bool[] _hasTransit = new bool[2];

    private Totals _total;
    private Totals _reported;

    /// <param name="silenceThresholdDbfs">A frame whose RMS is below this level (dB relative to full scale) is silent.</param>
    public StreamQuality(double silenceThresholdDbfs)
    {
        var amplitude = 32768 * Math.Pow(10, silenceThresholdDbfs / 20);
        _silenceMeanSquare = amplitude * amplitude;
    }

    /// <summary>Everything since the stream started.</summary>
    public QualitySnapshot Total => Snapshot(_total, default);

    /// <summary>Whether a frame's RMS level is below the silence threshold.</summary>
    public bool IsSilent(ReadOnlySpan<short> pcm)
    {
        if (pcm.IsEmpty)
        {
            return true;
        }

        long sum = 0;
        foreach (var sample in pcm)
        {
            sum += sample * sample;
        }

        return (double)sum / pcm.Length < _silenceMeanSquare;
    }

    /// <summary>
    /// A frame arrived. <paramref name="transitMilliseconds"/> is its arrival time minus its media timestamp (any common
    /// origin): RFC 3550 §6.4.1, <c>D = transit − previous transit; J += (|D| − J) / 16</c>, in arrival order.
    /// </summary>
    public void OnArrival(MediaTrack track, FrameArrival arrival, double transitMilliseconds, bool silent)
    {
        if (arrival == FrameArrival.Duplicate)
        {
            _total.Duplicates++;
            return;
        }

        _total.Received++;
        if (silent)
        {
            _total.Silent++;
        }

        switch (arrival)
        {
            case FrameArrival.OutOfOrder:
                _total.OutOfOrder++;
                break;
            case FrameArrival.Late:
                _total.OutOfOrder++;
                _total.Late++;
                break;
        }

        var t = (int)track;
        if (_hasTransit[t])
        {
            var d = transitMilliseconds - _lastTransit[t];
            _jitter[t] += (Math.Abs(d) - _jitter[t]) / 16;
        }

        _lastTransit[t] = transitMilliseconds;
        _hasTransit[t] = true;
    }

    /// <summary>A frame left the reorder buffer after <paramref name="delayMilliseconds"/> there.</summary>
    public void OnReleased(double delayMilliseconds)
    {
        _total.Released++;
        _total.DelaySum += delayMilliseconds;
    }

    public void OnLost(long count) => _total.Lost += count;

    /// <summary>The change since the previous call (or the start).</summary>
    public QualitySnapshot TakeInterval()
    {
        var snapshot = Snapshot(_total, _reported);
        _reported = _total;
        return snapshot;
    }

    private QualitySnapshot Snapshot(Totals now, Totals before)
    {
        var released = now.Released - before.Released;
        var lost = now.Lost - before.Lost;
        return new QualitySnapshot(
            Expected: released + lost,
            Received: now.Received - before.Received,
            Lost: lost,
            Late: now.Late - before.Late,
            OutOfOrder: now.OutOfOrder - before.OutOfOrder,
            Duplicates: now.Duplicates - before.Duplicates,
            Silent: now.Silent - before.Silent,
            JitterMilliseconds: Math.Max(_jitter[0], _jitter[1]),
            MeanDelayMilliseconds: released > 0 ? (now.DelaySum - before.DelaySum) / released : 0);
    }

    private struct Totals
    {
        public long Received;
        public long Released;
        public long Lost;
        public long Late;
        public long OutOfOrder;
        public long Duplicates;
        public long Silent;
        public double DelaySum;
    }
}
