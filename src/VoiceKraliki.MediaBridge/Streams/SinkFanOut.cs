using System.Buffers;
using System.Threading.Channels;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Quality;
using VoiceKraliki.MediaBridge.Sinks;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>
/// Hands a stream's audio, DTMF and marks to its sinks. Each sink has its own bounded queue and one pump task that
/// calls it in order; the stream only ever writes to the queues, never waits for a sink. Audio is copied into a pooled
/// buffer per sink. When a sink's queue is full the <em>oldest</em> item is dropped (and counted when it is audio): a
/// sink that falls behind then catches up with the live audio instead of staying a second late for the rest of the call.
/// A sink that throws is stopped, disposed and left out from then on; the stream and the other sinks carry on.
/// </summary>
internal sealed partial class SinkFanOut
{
    private readonly TelephonyProvider _provider;
    private readonly int _capacity;
    private readonly MediaStreamMetrics _metrics;
    private readonly ILogger _logger;
    private readonly string _streamId;
    private SinkPump[] _pumps = [];

    public SinkFanOut(TelephonyProvider provider, string streamId, int capacity, MediaStreamMetrics metrics, ILogger logger)
    {
        _provider = provider;
        _streamId = streamId;
        _capacity = capacity;
        _metrics = metrics;
        _logger = logger;
    }

    public int Count => _pumps.Length;

    /// <summary>Audio frames dropped by full queues, over all sinks, since the stream started.</summary>
    public long DroppedFrames => _pumps.Sum(p => p.Dropped);

    /// <summary>Adds a sink (at the stream's start, before any audio) and starts its pump.</summary>
    public void Add(IMediaSink sink)
    {
        var pump = new SinkPump(this, sink);
        _pumps = [.. _pumps, pump];
        pump.Start();
    }

    public void Audio(MediaTrack track, ReadOnlySpan<short> pcm, TimeSpan streamTime)
    {
        foreach (var pump in _pumps)
        {
            if (pump.Stopped)
            {
                continue;
            }

            var buffer = ArrayPool<short>.Shared.Rent(Math.Max(pcm.Length, 1));
            pcm.CopyTo(buffer);
            if (!pump.TryWrite(new SinkItem(SinkItemKind.Audio, track, buffer, pcm.Length, streamTime, null)))
            {
                ArrayPool<short>.Shared.Return(buffer);
            }
        }
    }

    public void Dtmf(string digit) => WriteAll(new SinkItem(SinkItemKind.Dtmf, default, null, 0, default, digit));

    public void Mark(string name) => WriteAll(new SinkItem(SinkItemKind.Mark, default, null, 0, default, name));

    /// <summary>
    /// Ends every sink: it gets what is queued, then <see cref="IMediaSink.OnStopAsync"/>, then is disposed. After
    /// <paramref name="timeout"/> the sinks still busy are cancelled (and given as long again to finish).
    /// </summary>
    public async Task StopAsync(string reason, TimeSpan timeout)
    {
        foreach (var pump in _pumps)
        {
            pump.Complete(reason);
        }

        var all = Task.WhenAll(_pumps.Select(p => p.Completion));
        try
        {
            await all.WaitAsync(timeout);
            return;
        }
        catch (TimeoutException)
        {
            foreach (var pump in _pumps)
            {
                pump.Cancel();
            }
        }

        try
        {
            await all.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            LogSinksAbandoned(_logger, _streamId, timeout.TotalSeconds);
        }
    }

    private void WriteAll(SinkItem item)
    {
        foreach (var pump in _pumps)
        {
            if (!pump.Stopped)
            {
                pump.TryWrite(item);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Media sink {Sink} of stream {StreamId} failed and was removed ({Error}); the stream goes on")]
    private static partial void LogSinkFailed(ILogger logger, Exception exception, string sink, string streamId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Media sink {Sink} of stream {StreamId} threw while being disposed ({Error})")]
    private static partial void LogSinkDisposeFailed(ILogger logger, Exception exception, string sink, string streamId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sinks of stream {StreamId} did not stop within {Seconds} s after being cancelled; left behind")]
    private static partial void LogSinksAbandoned(ILogger logger, string streamId, double seconds);

    private enum SinkItemKind
    {
        Audio,
        Dtmf,
        Mark,
    }

    private readonly record struct SinkItem(SinkItemKind Kind, MediaTrack Track, short[]? Pcm, int Length, TimeSpan StreamTime, string? Text)
    {
        public void Return()
        {
            if (Pcm is not null)
            {
                ArrayPool<short>.Shared.Return(Pcm);
            }
        }
    }

    private sealed class SinkPump
    {
        private readonly SinkFanOut _owner;
        private readonly IMediaSink _sink;
        private readonly Channel<SinkItem> _queue;
        private readonly CancellationTokenSource _cancel = new();
        private readonly string _name;
        private string _stopReason = "stopped";
        private long _dropped;
        private volatile bool _stopped;

        public SinkPump(SinkFanOut owner, IMediaSink sink)
        {
            _owner = owner;
            _sink = sink;
            _name = string.IsNullOrWhiteSpace(sink.Name) ? sink.GetType().Name : sink.Name;
            _queue = Channel.CreateBounded<SinkItem>(
                new BoundedChannelOptions(owner._capacity)
                {
                    FullMode = BoundedChannelFullMode.DropOldest,
                    SingleReader = true,
                    SingleWriter = false,
                    AllowSynchronousContinuations = false,
                },
                OnDropped);
        }

        public Task Completion { get; private set; } = Task.CompletedTask;

        public bool Stopped => _stopped;

        public long Dropped => Interlocked.Read(ref _dropped);

        public void Start() => Completion = Task.Run(PumpAsync);

        public bool TryWrite(SinkItem item) => _queue.Writer.TryWrite(item);

        public void Complete(string reason)
        {
            _stopReason = reason;
            _queue.Writer.TryComplete();
        }

        public void Cancel() => _cancel.Cancel();

        private void OnDropped(SinkItem item)
        {
            item.Return();
            if (item.Kind == SinkItemKind.Audio)
            {
                Interlocked.Increment(ref _dropped);
                _owner._metrics.SinkDropped(_owner._provider, _name);
            }
        }

        private async Task PumpAsync()
        {
            var cancellationToken = _cancel.Token;
            try
            {
                while (await _queue.Reader.WaitToReadAsync(cancellationToken))
                {
                    while (_queue.Reader.TryRead(out var item))
                    {
                        try
                        {
                            switch (item.Kind)
                            {
                                case SinkItemKind.Audio:
                                    await _sink.OnAudioAsync(item.Track, item.Pcm.AsMemory(0, item.Length), item.StreamTime, cancellationToken);
                                    break;
                                case SinkItemKind.Dtmf:
                                    await _sink.OnDtmfAsync(item.Text!, cancellationToken);
                                    break;
                                case SinkItemKind.Mark:
                                    await _sink.OnMarkAsync(item.Text!, cancellationToken);
                                    break;
                            }
                        }
                        finally
                        {
                            item.Return();
                        }
                    }
                }

                await _sink.OnStopAsync(_stopReason, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // The stream's end gave up waiting for this sink.
            }
            catch (Exception ex)
            {
                LogSinkFailed(_owner._logger, ex, _name, _owner._streamId, ex.GetType().Name);
                _owner._metrics.SinkFailed(_owner._provider, _name);
            }
            finally
            {
                _stopped = true;
                _queue.Writer.TryComplete();
                while (_queue.Reader.TryRead(out var left))
                {
                    left.Return();
                }

                try
                {
                    await _sink.DisposeAsync();
                }
                catch (Exception ex)
                {
                    LogSinkDisposeFailed(_owner._logger, ex, _name, _owner._streamId, ex.GetType().Name);
                }
            }
        }
    }
}
