using System.Buffers;
using VoiceKraliki.MediaBridge.Sinks;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>How a frame arrived, as the reorder buffer saw it.</summary>
internal enum FrameArrival
{
    /// <summary>Newer than every frame before it.</summary>
    InOrder,

    /// <summary>Older than a frame that came before it, but in time to be played in its place.</summary>
    OutOfOrder,

    /// <summary>Its place was already played or given up: dropped.</summary>
    Late,

    /// <summary>The same frame again: dropped.</summary>
    Duplicate,
}

/// <summary>Where frames go when they leave a <see cref="JitterBuffer"/>.</summary>
internal interface IFrameReceiver
{
    /// <summary>The next frame of the track, in order. <paramref name="pcm"/> is only valid during the call.</summary>
    void Release(MediaTrack track, ReadOnlySpan<short> pcm, TimeSpan streamTime, long arrivalTimestamp);

    /// <summary>The buffer gave up waiting for <paramref name="count"/> frames of the track.</summary>
    void Lost(MediaTrack track, long count);
}

/// <summary>
/// Puts one track's frames back in order by their number (Twilio/Telnyx <c>chunk</c>) with as little delay as it can:
/// a frame that is next is played at once; one that comes early waits while at most <c>depth</c> frames are held for a
/// missing one, and when one more arrives (or the stream's hold timer fires, see <see cref="GiveUpWaiting"/>) the missing
/// frame is given up as lost. A frame whose place was already played or given up is late and dropped. Nothing is
/// invented for a lost frame: the next frame keeps its own stream time, so the gap shows there.
/// </summary>
/// <remarks>Not thread-safe: the stream serializes all calls.</remarks>
internal sealed class JitterBuffer : IDisposable
{
    /// <summary>A jump in numbering bigger than this (60 s of 20 ms frames) is a restart of the numbering, not loss.</summary>
    public const long MaxGap = 3000;

    private const int HistoryLength = 1024;

    private readonly MediaTrack _track;
    private readonly int _depth;
    private readonly Slot[] _slots;

    /// <summary>Bit <c>i % 1024</c>: whether frame <c>i</c> was played (set) or given up (clear), for the last 1024 places.</summary>
    private readonly ulong[] _played = new ulong[HistoryLength / 64];

    private long _next;
    private long _highest;
    private long _historyFloor;
    private bool _started;

    public JitterBuffer(MediaTrack track, int depth)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        _track = track;
        _depth = depth;
        _slots = new Slot[depth + 1];
    }

    /// <summary>Frames waiting for an earlier, missing one.</summary>
    public int Held { get; private set; }

    public FrameArrival Insert(long index, ReadOnlySpan<short> pcm, TimeSpan streamTime, long arrivalTimestamp, IFrameReceiver receiver)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        if (!_started)
        {
            _started = true;

            // Numbering starts at 1: a stream whose first frames were reordered (or lost) still counts them.
            _next = index <= _depth + 1 ? Math.Min(index, 1) : index;
            _highest = _next - 1;
            _historyFloor = _next;
        }
        else if (index - _next > MaxGap || _next - index > MaxGap)
        {
            Restart(index, receiver);
        }

        if (index < _next)
        {
            return index >= _historyFloor && index >= _next - HistoryLength && WasPlayed(index)
                ? FrameArrival.Duplicate
                : FrameArrival.Late;
        }

        if (index - _next > _depth)
        {
            AdvanceTo(index - _depth, receiver);
        }

        ref var slot = ref _slots[index % _slots.Length];
        if (slot.Present)
        {
            return FrameArrival.Duplicate;
        }

        var arrival = index < _highest ? FrameArrival.OutOfOrder : FrameArrival.InOrder;
        _highest = Math.Max(_highest, index);
        if (index == _next)
        {
            // The common case: straight through, no copy.
            receiver.Release(_track, pcm, streamTime, arrivalTimestamp);
            MarkPlayed(_next, played: true);
            _next++;
        }
        else
        {
            var copy = ArrayPool<short>.Shared.Rent(Math.Max(pcm.Length, 1));
            pcm.CopyTo(copy);
            slot = new Slot(true, copy, pcm.Length, streamTime, arrivalTimestamp);
            Held++;
        }

        Drain(receiver);
        return arrival;
    }

    /// <summary>Stops waiting for the missing frame(s) before the first held one: counts them lost and plays on.</summary>
    public void GiveUpWaiting(IFrameReceiver receiver)
    {
        if (Held == 0)
        {
            return;
        }

        long lost = 0;
        while (!_slots[_next % _slots.Length].Present)
        {
            MarkPlayed(_next, played: false);
            _next++;
            lost++;
        }

        if (lost > 0)
        {
            receiver.Lost(_track, lost);
        }

        Drain(receiver);
    }

    /// <summary>At the end of the stream: plays every held frame, counting the gaps between them lost.</summary>
    public void Flush(IFrameReceiver receiver)
    {
        while (Held > 0)
        {
            GiveUpWaiting(receiver);
        }
    }

    public void Dispose()
    {
        for (var i = 0; i < _slots.Length; i++)
        {
            if (_slots[i].Pcm is { } pcm)
            {
                ArrayPool<short>.Shared.Return(pcm);
            }

            _slots[i] = default;
        }

        Held = 0;
    }

    private void AdvanceTo(long target, IFrameReceiver receiver)
    {
        long lost = 0;
        while (_next < target)
        {
            ref var slot = ref _slots[_next % _slots.Length];
            if (slot.Present)
            {
                Play(ref slot, receiver);
            }
            else
            {
                MarkPlayed(_next, played: false);
                lost++;
            }

            _next++;
        }

        if (lost > 0)
        {
            receiver.Lost(_track, lost);
        }
    }

    private void Drain(IFrameReceiver receiver)
    {
        while (Held > 0)
        {
            ref var slot = ref _slots[_next % _slots.Length];
            if (!slot.Present)
            {
                return;
            }

            Play(ref slot, receiver);
            _next++;
        }
    }

    private void Play(ref Slot slot, IFrameReceiver receiver)
    {
        var pcm = slot.Pcm!;
        try
        {
            receiver.Release(_track, pcm.AsSpan(0, slot.Length), slot.StreamTime, slot.ArrivalTimestamp);
        }
        finally
        {
            ArrayPool<short>.Shared.Return(pcm);
            slot = default;
            Held--;
            MarkPlayed(_next, played: true);
        }
    }

    /// <summary>A numbering restart: plays what is held, then starts over at <paramref name="index"/> without counting the jump.</summary>
    private void Restart(long index, IFrameReceiver receiver)
    {
        Flush(receiver);
        _next = index;
        _highest = index - 1;
        _historyFloor = index;
        Array.Clear(_played);
    }

    private bool WasPlayed(long index) => (_played[(index % HistoryLength) / 64] & (1UL << (int)(index % 64))) != 0;

    private void MarkPlayed(long index, bool played)
    {
        ref var word = ref _played[(index % HistoryLength) / 64];
        var bit = 1UL << (int)(index % 64);
        word = played ? word | bit : word & ~bit;
    }

    private readonly record struct Slot(bool Present, short[]? Pcm, int Length, TimeSpan StreamTime, long ArrivalTimestamp);
}
