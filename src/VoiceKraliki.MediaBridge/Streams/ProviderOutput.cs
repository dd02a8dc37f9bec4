using System.Buffers;
using System.Net.WebSockets;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>
/// The way back to the caller on one stream. Audio from a sink is resampled to the wire rate (one
/// <see cref="PcmResampler"/> per source rate, kept for the whole stream: resetting it would click), encoded to the wire
/// codec, cut into exact 20 ms frames, and queued; one sender loop sends the queue paced in real time on an absolute
/// schedule (frame <c>n</c> of a run at <c>start + n·20 ms</c>, so delays never accumulate), woken for each frame by a
/// <see cref="PacedClock"/> (in the service, a dedicated pacing thread: see <see cref="ThreadFramePacer"/>).
/// </summary>
/// <remarks>
/// <para>
/// A run starts when audio comes after none was queued. Its first frame waits for the playout delay (counted from when
/// it was queued) unless that much audio is queued already, so a source that trickles in real time has that margin for
/// its jitter. A frame queued only after its slot had passed (the source fell behind: an underflow) starts a new run,
/// with a new head start, instead of being rushed out: the provider keeps getting one frame every 20 ms, and each
/// underflow leaves more margin for the next. A sender that wakes late for audio that was there in time (a pause of the
/// process) keeps the schedule and catches up, unless it is more than three frames behind: then a new schedule starts
/// from that frame, never a burst.
/// </para>
/// <para>
/// Never an empty or short frame: audio that does not fill a frame waits for more. A mark flushes it: the partial frame
/// is completed with digital silence (under 20 ms of it) and sent, then the mark, so the mark really follows all the
/// audio queued before it. At the end of the stream an incomplete frame is dropped.
/// </para>
/// <para>
/// <see cref="ClearAsync"/> (barge-in) drops everything queued (a frame already waiting for its send time included) and
/// sends <c>clear</c>. Marks that were still in our queue never reached the provider, so it cannot echo them: they are
/// handed back to the sinks at once, as the provider does for the marks it had buffered.
/// </para>
/// <para>
/// When the queue holds <c>MaxQueuedOutput</c> of audio, <see cref="SendAudioAsync"/> waits for room (backpressure on
/// the sink), never drops. After the stream ended, audio and marks are ignored.
/// </para>
/// </remarks>
internal sealed partial class ProviderOutput : IProviderOutput, IAsyncDisposable
{
    /// <summary>Falling further behind than this (a long GC pause, a starved thread pool) starts a new schedule instead of a burst.</summary>
    private const int MaxCatchUpFrames = 3;

    private readonly IProviderSender _sender;
    private readonly WireEncoding _encoding;
    private readonly int _wireRate;
    private readonly int _frameBytes;
    private readonly int _maxQueuedFrames;
    private readonly int _playoutFrames;
    private readonly long _playoutTicks;
    private readonly TimeProvider _time;
    private readonly PacedClock _clock;
    private readonly Action<string> _markDropped;
    private readonly Action<TimeSpan> _frameSent;
    private readonly ILogger _logger;
    private readonly double _frameTicks;

    private readonly Lock _gate = new();
    private readonly Queue<OutgoingItem> _queue = new();
    private readonly Dictionary<int, PcmResampler> _resamplers = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private short[] _resampled = [];
    private byte[]? _partial;
    private int _partialLength;
    private int _queuedFrames;
    private long _generation;
    private bool _senderIdle;
    private bool _closed;
    private TaskCompletionSource? _roomWaiter;
    private Task _sending = Task.CompletedTask;
    private long _framesSent;

    /// <param name="playoutDelay">The head start of each run (see the remarks).</param>
    /// <param name="time">The clock of the schedule; <paramref name="clock"/> must wait on its timestamps.</param>
    /// <param name="clock">Wakes the sender for each frame; the output owns it.</param>
    /// <param name="markDropped">Called with each queued mark that <see cref="ClearAsync"/> dropped.</param>
    /// <param name="frameSent">Called after each frame sent (metrics).</param>
    public ProviderOutput(
        IProviderSender sender,
        WireEncoding encoding,
        int wireRate,
        TimeSpan maxQueued,
        TimeSpan playoutDelay,
        TimeProvider time,
        PacedClock clock,
        Action<string> markDropped,
        Action<TimeSpan> frameSent,
        ILogger logger)
    {
        if (!PcmResampler.IsSupportedRate(wireRate))
        {
            throw new ArgumentOutOfRangeException(nameof(wireRate), wireRate, "The wire rate must be 8000, 16000, 24000 or 48000 Hz.");
        }

        _sender = sender;
        _encoding = encoding;
        _wireRate = wireRate;
        _frameBytes = wireRate / 50 * WireCodec.BytesPerSample(encoding);
        _maxQueuedFrames = Math.Max(1, (int)(maxQueued.TotalMilliseconds / 20));
        _playoutFrames = (int)Math.Ceiling(playoutDelay.TotalMilliseconds / 20);
        _playoutTicks = (long)(playoutDelay.TotalSeconds * time.TimestampFrequency);
        _time = time;
        _clock = clock;
        _markDropped = markDropped;
        _frameSent = frameSent;
        _logger = logger;
        _frameTicks = time.TimestampFrequency * 0.020;
    }

    /// <summary>Bytes of one 20 ms frame on the wire (160 for G.711 at 8 kHz).</summary>
    public int FrameBytes => _frameBytes;

    public long FramesSent => Interlocked.Read(ref _framesSent);

    public void Start() => _sending = Task.Run(() => SendLoopAsync(_stop.Token));

    public async ValueTask SendAudioAsync(ReadOnlyMemory<short> pcm, int sampleRate, CancellationToken cancellationToken)
    {
        if (!PcmResampler.IsSupportedRate(sampleRate))
        {
            throw new ArgumentOutOfRangeException(nameof(sampleRate), sampleRate, "Audio must be at 8000, 16000, 24000 or 48000 Hz.");
        }

        if (pcm.IsEmpty)
        {
            return;
        }

        await WaitForRoomAsync(cancellationToken);
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            // 20 ms of input at a time keeps the resampler's scratch buffer small, whatever the caller hands over.
            var input = pcm.Span;
            var step = sampleRate / 50;
            for (var offset = 0; offset < input.Length; offset += step)
            {
                var part = input.Slice(offset, Math.Min(step, input.Length - offset));
                if (sampleRate == _wireRate)
                {
                    Append(part);
                    continue;
                }

                var resampler = Resampler(sampleRate);
                var needed = resampler.MaxOutputLength(part.Length);
                if (_resampled.Length < needed)
                {
                    _resampled = new short[needed];
                }

                var written = resampler.Process(part, _resampled);
                Append(_resampled.AsSpan(0, written));
            }

            Wake();
        }
    }

    public ValueTask SendMarkAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_gate)
        {
            if (_closed)
            {
                return ValueTask.CompletedTask;
            }

            if (_partialLength > 0)
            {
                WireCodec.FillSilence(_encoding, _partial.AsSpan(_partialLength, _frameBytes - _partialLength));
                _partialLength = _frameBytes;
                EnqueuePartial();
            }

            _queue.Enqueue(new OutgoingItem(null, name, 0));
            Wake();
        }

        return ValueTask.CompletedTask;
    }

    public async ValueTask ClearAsync(CancellationToken cancellationToken)
    {
        List<string>? dropped = null;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _generation++;
            while (_queue.TryDequeue(out var item))
            {
                if (item.Audio is { } audio)
                {
                    ArrayPool<byte>.Shared.Return(audio);
                }
                else
                {
                    (dropped ??= []).Add(item.Mark!);
                }
            }

            _queuedFrames = 0;
            _partialLength = 0;
            ReleaseRoom();
        }

        await _sender.SendClearAsync(cancellationToken);
        foreach (var mark in dropped ?? [])
        {
            _markDropped(mark);
        }
    }

    /// <summary>The stream ended: drop what is queued and stop the sender (waiting at most <paramref name="timeout"/> for a send under way).</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            DropQueued();
            ReleaseRoom();
        }

        await _stop.CancelAsync();
        try
        {
            await _sending.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            LogSenderStuck(_logger, timeout.TotalSeconds);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5));
        _clock.Dispose();
        _stop.Dispose();
    }

    private PcmResampler Resampler(int sampleRate)
    {
        if (!_resamplers.TryGetValue(sampleRate, out var resampler))
        {
            resampler = new PcmResampler(sampleRate, _wireRate);
            _resamplers.Add(sampleRate, resampler);
        }

        return resampler;
    }

    /// <summary>Encodes wire-rate samples onto the partial frame, queueing every frame that fills.</summary>
    private void Append(ReadOnlySpan<short> samples)
    {
        var bytesPerSample = WireCodec.BytesPerSample(_encoding);
        while (!samples.IsEmpty)
        {
            _partial ??= ArrayPool<byte>.Shared.Rent(_frameBytes);
            var take = Math.Min((_frameBytes - _partialLength) / bytesPerSample, samples.Length);
            _partialLength += WireCodec.Encode(_encoding, samples[..take], _partial.AsSpan(_partialLength));
            samples = samples[take..];
            if (_partialLength == _frameBytes)
            {
                EnqueuePartial();
            }
        }
    }

    private void EnqueuePartial()
    {
        _queue.Enqueue(new OutgoingItem(_partial, null, _time.GetTimestamp()));
        _queuedFrames++;
        _partial = null;
        _partialLength = 0;
    }

    private void DropQueued()
    {
        while (_queue.TryDequeue(out var item))
        {
            if (item.Audio is { } audio)
            {
                ArrayPool<byte>.Shared.Return(audio);
            }
        }

        if (_partial is { } partial)
        {
            ArrayPool<byte>.Shared.Return(partial);
            _partial = null;
        }

        _partialLength = 0;
        _queuedFrames = 0;
    }

    /// <summary>Under the gate: lets the sender run if it is waiting for work.</summary>
    private void Wake()
    {
        if (_senderIdle && _queue.Count > 0)
        {
            _senderIdle = false;
            _wake.Release();
        }
    }

    /// <summary>Under the gate: lets a waiting <see cref="SendAudioAsync"/> go on if there is room.</summary>
    private void ReleaseRoom()
    {
        if (_roomWaiter is { } waiter && (_closed || _queuedFrames < _maxQueuedFrames))
        {
            _roomWaiter = null;
            waiter.TrySetResult();
        }
    }

    private async Task WaitForRoomAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task room;
            lock (_gate)
            {
                if (_closed || _queuedFrames < _maxQueuedFrames)
                {
                    return;
                }

                _roomWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                room = _roomWaiter.Task;
            }

            await room.WaitAsync(cancellationToken);
        }
    }

    private async Task SendLoopAsync(CancellationToken stopping)
    {
        long runStart = 0;
        long n = 0;
        var running = false;
        try
        {
            while (true)
            {
                OutgoingItem item;
                long generation;
                int queuedAfter;
                lock (_gate)
                {
                    if (!_queue.TryDequeue(out item))
                    {
                        _senderIdle = true;
                    }
                    else if (item.Audio is not null)
                    {
                        _queuedFrames--;
                        ReleaseRoom();
                    }

                    generation = _generation;
                    queuedAfter = _queuedFrames;
                }

                if (item.Audio is null && item.Mark is null)
                {
                    // Nothing queued: wait for more; whether it continues this run depends on when it comes.
                    await _wake.WaitAsync(stopping);
                    continue;
                }

                if (item.Mark is { } mark)
                {
                    await _sender.SendMarkAsync(mark, stopping);
                    continue;
                }

                var audio = item.Audio!;
                try
                {
                    var now = _time.GetTimestamp();
                    if (running && item.QueuedAt > runStart + (long)(n * _frameTicks) && now > runStart + (long)(n * _frameTicks))
                    {
                        // Queued after its slot had passed: the source fell behind, and this is a new run.
                        running = false;
                    }

                    if (!running)
                    {
                        runStart = queuedAfter + 1 >= _playoutFrames ? now : Math.Max(now, item.QueuedAt + _playoutTicks);
                        n = 0;
                        running = true;
                    }

                    var due = runStart + (long)(n * _frameTicks);
                    if (due > now)
                    {
                        await _clock.WaitUntilAsync(due, stopping);
                    }
                    else if (now - due > MaxCatchUpFrames * _frameTicks)
                    {
                        runStart = now;
                        n = 0;
                    }

                    bool current;
                    lock (_gate)
                    {
                        current = generation == _generation;
                    }

                    // A clear while this frame waited for its time drops it, and its slot goes to the next one.
                    if (current)
                    {
                        // How far behind its slot the frame went out (the pacing's own accuracy, before the network).
                        var lateness = _time.GetElapsedTime(runStart + (long)(n * _frameTicks), _time.GetTimestamp());
                        await _sender.SendMediaAsync(audio.AsMemory(0, _frameBytes), stopping);
                        Interlocked.Increment(ref _framesSent);
                        _frameSent(lateness < TimeSpan.Zero ? TimeSpan.Zero : lateness);
                        n++;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(audio);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // The stream ended.
        }
        catch (Exception ex) when (ex is WebSocketException or InvalidOperationException or ObjectDisposedException)
        {
            LogSendFailed(_logger, ex.GetType().Name);
            lock (_gate)
            {
                _closed = true;
                DropQueued();
                ReleaseRoom();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Audio to the provider stopped: the stream's socket is gone ({Error})")]
    private static partial void LogSendFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The provider output's sender did not stop within {Seconds} s")]
    private static partial void LogSenderStuck(ILogger logger, double seconds);

    private readonly record struct OutgoingItem(byte[]? Audio, string? Mark, long QueuedAt);
}
