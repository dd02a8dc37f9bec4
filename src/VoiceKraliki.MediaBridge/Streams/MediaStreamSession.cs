using System.Buffers;
using System.Net.WebSockets;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Quality;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>What one media-stream session needs from the service; a singleton.</summary>
internal sealed class MediaStreamServices(
    IOptions<MediaStreamOptions> options,
    MediaStreamMetrics metrics,
    StreamAuthorizer authorizer,
    IEnumerable<IMediaSinkFactory> sinkFactories,
    MediaEventPublisher events,
    IFramePacer pacer,
    TimeProvider time,
    IHostApplicationLifetime lifetime,
    ILoggerFactory loggers)
{
    public MediaStreamOptions Options { get; } = options.Value;

    public MediaStreamMetrics Metrics { get; } = metrics;

    public StreamAuthorizer Authorizer { get; } = authorizer;

    public IReadOnlyList<IMediaSinkFactory> SinkFactories { get; } = [.. sinkFactories];

    public MediaEventPublisher Events { get; } = events;

    public IFramePacer Pacer { get; } = pacer;

    public TimeProvider Time { get; } = time;

    public CancellationToken Stopping => lifetime.ApplicationStopping;

    public ILogger Logger { get; } = loggers.CreateLogger("VoiceKraliki.MediaBridge.MediaStream");
}

/// <summary>
/// One provider media stream, from the upgrade to the close: reads and parses every message (one reader, never
/// waiting for a sink or the broker), checks the stream token at <c>start</c>, decodes the audio and puts it in
/// order (<see cref="InboundAudio"/>), fans it out to the sinks (<see cref="SinkFanOut"/>), offers the way back
/// (<see cref="ProviderOutput"/>), and reports quality and lifecycle events. Anything wrong with the stream closes
/// this stream alone, with a close code and reason that say what: 1007 for unreadable data, 1008 for a refused token
/// or a message out of place, 1009 for an oversized message, 1003 for a binary one.
/// </summary>
internal sealed partial class MediaStreamSession : IFrameReceiver
{
    /// <summary>How long a close handshake may take before the connection is dropped.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a sink factory may take to make its sink.</summary>
    private static readonly TimeSpan SinkCreateTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _socket;
    private readonly TelephonyProvider _provider;
    private readonly string? _queryToken;
    private readonly MediaStreamServices _services;
    private readonly MediaStreamOptions _options;
    private readonly MediaStreamMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ProviderSocket _writer;
    private readonly MediaMessage _message = new();
    private readonly Lock _gate = new();

    private StreamEnd? _requestedClose;
    private volatile MediaStreamInfo? _info;
    private WireEncoding _encoding;
    private InboundAudio? _audio;
    private SinkFanOut? _sinks;
    private ProviderOutput? _output;
    private MediaEventPublisher.StreamEvents? _events;
    private ITimer? _holdTimer;
    private ITimer? _reportTimer;
    private bool _holdArmed;
    private bool _ended;
    private DateTimeOffset _lastReportAt;
    private long _reportedDropped;

    public MediaStreamSession(WebSocket socket, TelephonyProvider provider, string? queryToken, MediaStreamServices services)
    {
        _socket = socket;
        _provider = provider;
        _queryToken = queryToken;
        _services = services;
        _options = services.Options;
        _metrics = services.Metrics;
        _time = services.Time;
        _logger = services.Logger;
        _writer = new ProviderSocket(socket);
    }

    public async Task RunAsync(CancellationToken connectionClosed)
    {
        _metrics.StreamOpened(_provider);
        var end = new StreamEnd(StreamOutcome.Aborted, "connection lost", null);
        var message = ArrayPool<byte>.Shared.Rent(_options.MaxMessageBytes);
        var payload = ArrayPool<byte>.Shared.Rent(_options.MaxMessageBytes);
        var pcm = ArrayPool<short>.Shared.Rent(_options.MaxMessageBytes);
        using var startTimer = _time.CreateTimer(
            _ =>
            {
                if (_info is null)
                {
                    RequestClose(new StreamEnd(StreamOutcome.NoStart,
                        $"no start within {_options.StartTimeout.TotalSeconds:0.#} s", WebSocketCloseStatus.PolicyViolation));
                }
            },
            null, _options.StartTimeout, Timeout.InfiniteTimeSpan);
        using var stopping = _services.Stopping.Register(() =>
            RequestClose(new StreamEnd(StreamOutcome.ShuttingDown, "server shutting down", WebSocketCloseStatus.EndpointUnavailable)));
        try
        {
            end = await ReadLoopAsync(message, payload, pcm, connectionClosed);
        }
        catch (WebSocketException ex)
        {
            end = _requestedClose is { } requested ? requested with { Close = null } : end;
            LogStreamBroken(_logger, _provider, _info?.StreamId, ex.WebSocketErrorCode);

            // The WebSocket layer itself closes a stream that breaks the protocol (text that is not UTF-8 gets a 1007
            // close frame) and aborts. Linger briefly before the connection ends so the peer reads that close frame
            // instead of a connection reset.
            await LingerAsync(connectionClosed);
        }
        catch (OperationCanceledException) when (connectionClosed.IsCancellationRequested)
        {
            // The peer went away.
        }
        catch (OperationCanceledException) when (_requestedClose is { } requested)
        {
            // We closed, and dropped the connection when the provider did not answer in time.
            end = requested with { Close = null };
        }
        catch (Exception ex)
        {
            LogStreamFailed(_logger, ex, _provider, _info?.StreamId);
            end = new StreamEnd(StreamOutcome.Aborted, "internal error", WebSocketCloseStatus.InternalServerError);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(message);
            ArrayPool<byte>.Shared.Return(payload);
            ArrayPool<short>.Shared.Return(pcm);
        }

        try
        {
            await FinishAsync(end);
        }
        finally
        {
            _metrics.StreamClosed(_provider, end.Outcome);
            _writer.Dispose();
        }
    }

    private async Task<StreamEnd> ReadLoopAsync(byte[] buffer, byte[] payload, short[] pcm, CancellationToken cancellationToken)
    {
        var max = _options.MaxMessageBytes;
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                if (length == max)
                {
                    return new StreamEnd(StreamOutcome.TooBig, $"message larger than {max} bytes", WebSocketCloseStatus.MessageTooBig);
                }

                result = await _socket.ReceiveAsync(buffer.AsMemory(length, max - length), cancellationToken);
                length += result.Count;
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (_requestedClose is { } requested)
                {
                    // The answer to our own close: the handshake is complete.
                    return requested with { Close = null };
                }

                if (_socket.State == WebSocketState.CloseReceived)
                {
                    using var timeout = new CancellationTokenSource(CloseTimeout);
                    await _writer.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                }

                return new StreamEnd(StreamOutcome.ClientClosed, "provider closed the stream", null);
            }

            if (result.MessageType != WebSocketMessageType.Text)
            {
                return new StreamEnd(StreamOutcome.NotText, "text JSON messages expected", WebSocketCloseStatus.InvalidMessageType);
            }

            var arrival = _time.GetTimestamp();
            if (!MediaMessageParser.TryParse(buffer.AsSpan(0, length), _provider, _message, payload, out var error))
            {
                _metrics.MessageReceived(_provider, "malformed");
                LogMalformed(_logger, _provider, _info?.StreamId, error);
                return new StreamEnd(StreamOutcome.Malformed, error, WebSocketCloseStatus.InvalidPayloadData);
            }

            if (_message.Kind == MediaEventKind.Unknown)
            {
                _services.Metrics.UnknownEvent(_provider, _message.UnknownEvent!);
                continue;
            }

            _metrics.MessageReceived(_provider, EventLabel(_message.Kind));
            var end = _message.Kind switch
            {
                MediaEventKind.Media => OnMedia(payload, pcm, arrival),
                MediaEventKind.Start => await OnStartAsync(cancellationToken),
                MediaEventKind.Dtmf => OnDtmf(),
                MediaEventKind.Mark => OnMark(),
                MediaEventKind.Error => OnProviderError(),
                MediaEventKind.Stop => new StreamEnd(StreamOutcome.Completed, "stream stopped", WebSocketCloseStatus.NormalClosure),
                _ => null,
            };
            if (end is not null)
            {
                return end;
            }
        }
    }

    private async Task<StreamEnd?> OnStartAsync(CancellationToken cancellationToken)
    {
        if (_info is not null)
        {
            return new StreamEnd(StreamOutcome.ProtocolViolation, "second start on one stream", WebSocketCloseStatus.PolicyViolation);
        }

        var start = _message.Start!;
        if (_services.Authorizer.Authorize(_provider, start, _queryToken, out var claims) is { } refused)
        {
            LogRefused(_logger, _provider, start.StreamId, start.CallId, MediaStreamMetrics.OutcomeLabel(refused));
            return new StreamEnd(refused, StreamAuthorizer.Reason(refused), WebSocketCloseStatus.PolicyViolation);
        }

        var encoding = WireCodec.Parse(_provider, start.Encoding);
        var rate = start.SampleRate ?? 8000;
        var unsupported = encoding switch
        {
            null => "unsupported media encoding",
            WireEncoding.MuLaw or WireEncoding.ALaw when rate != 8000 => "G.711 media must be 8000 Hz",
            WireEncoding.L16 when !PcmResampler.IsSupportedRate(rate) => "L16 media must be 8, 16, 24 or 48 kHz",
            _ when (start.Channels ?? 1) != 1 => "only mono media streams are supported",
            _ => null,
        };
        if (unsupported is not null)
        {
            return new StreamEnd(StreamOutcome.UnsupportedFormat, unsupported, WebSocketCloseStatus.PolicyViolation);
        }

        var parameters = start.CustomParameters
            .Where(p => p.Key != StreamAuthorizer.TokenParameter)
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        var sessionId = claims!.SessionId ?? parameters.GetValueOrDefault("sessionId");
        IReadOnlyList<MediaTrack> tracks = start.Tracks is { Count: > 0 } listed ? listed : [MediaTrack.Inbound];
        var info = new MediaStreamInfo(_provider, start.StreamId, start.CallId, sessionId, encoding!.Value, rate, tracks, parameters, _time.GetUtcNow());

        _encoding = info.Encoding;
        _writer.Started(_provider, info.StreamId);
        _sinks = new SinkFanOut(_provider, info.StreamId, _options.SinkQueueFrames, _metrics, _logger);
        _audio = new InboundAudio(rate, _options.JitterBufferFrames, _options.SilenceThresholdDbfs, _time, this);
        _output = new ProviderOutput(_writer, info.Encoding, rate, _options.MaxQueuedOutput, _options.OutputPlayoutDelay, _time, _services.Pacer.CreateClock(),
            markDropped: name => _sinks.Mark(name), frameSent: lateness => _metrics.FrameSent(_provider, lateness), _logger);
        _holdTimer = _time.CreateTimer(_ => OnHoldTimeout(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _lastReportAt = info.StartedAt;
        _events = _services.Events.Open(info.StreamId);
        _events.Publish(new MediaStreamStarted(
            Guid.CreateVersion7(), info.StartedAt, info.CallId, _provider, info.StreamId, start.Encoding ?? "audio/x-mulaw", rate,
            start.Channels ?? 1, [.. tracks.Select(t => t == MediaTrack.Inbound ? "inbound" : "outbound")], info.CallId, sessionId));
        _info = info;
        _output.Start();
        _reportTimer = _time.CreateTimer(_ => OnReportDue(), null, _options.ReportInterval, _options.ReportInterval);

        foreach (var factory in _services.SinkFactories)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(SinkCreateTimeout);
                if (await factory.CreateAsync(info, _output, timeout.Token) is { } sink)
                {
                    _sinks.Add(sink);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogSinkFactoryFailed(_logger, ex, factory.GetType().Name, info.StreamId, ex.GetType().Name);
                _metrics.SinkFailed(_provider, factory.GetType().Name);
            }
        }

        LogStarted(_logger, _provider, info.StreamId, info.CallId, info.Encoding, rate, _sinks.Count);
        return null;
    }

    private StreamEnd? OnMedia(byte[] payload, short[] pcm, long arrival)
    {
        if (_info is null)
        {
            return new StreamEnd(StreamOutcome.ProtocolViolation, "media before start", WebSocketCloseStatus.PolicyViolation);
        }

        var samples = WireCodec.SampleCount(_encoding, _message.PayloadLength);
        if (samples < 0)
        {
            return new StreamEnd(StreamOutcome.Malformed, "L16 payload of an odd number of bytes", WebSocketCloseStatus.InvalidPayloadData);
        }

        WireCodec.Decode(_encoding, payload.AsSpan(0, _message.PayloadLength), pcm);
        FrameArrival how;
        lock (_gate)
        {
            how = _audio!.Receive(_message.Track, _message.Chunk, _message.TimestampMs, arrival, pcm.AsSpan(0, samples));
            UpdateHoldTimer();
        }

        switch (how)
        {
            case FrameArrival.Duplicate:
                break;
            case FrameArrival.Late:
                _metrics.FrameReceived(_provider);
                _metrics.FrameLate(_provider);
                break;
            default:
                _metrics.FrameReceived(_provider);
                break;
        }

        return null;
    }

    private StreamEnd? OnDtmf()
    {
        _sinks?.Dtmf(_message.Digit!);
        return null;
    }

    private StreamEnd? OnMark()
    {
        _sinks?.Mark(_message.MarkName!);
        return null;
    }

    private StreamEnd? OnProviderError()
    {
        LogProviderError(_logger, _provider, _info?.StreamId, _message.ErrorCode, _message.ErrorTitle);
        return null;
    }

    /// <summary>Under the gate: the hold timer runs while the reorder buffer holds frames, and only then.</summary>
    private void UpdateHoldTimer()
    {
        var holding = _audio!.Held > 0;
        if (holding == _holdArmed)
        {
            return;
        }

        _holdArmed = holding;
        var wait = holding ? TimeSpan.FromMilliseconds(20 * Math.Max(1, _options.JitterBufferFrames)) : Timeout.InfiniteTimeSpan;
        _holdTimer!.Change(wait, Timeout.InfiniteTimeSpan);
    }

    private void OnHoldTimeout()
    {
        lock (_gate)
        {
            if (_ended || _audio is null)
            {
                return;
            }

            _holdArmed = false;
            _audio.GiveUpWaiting();
            UpdateHoldTimer();
        }
    }

    private void OnReportDue()
    {
        MediaQualityReported report;
        lock (_gate)
        {
            if (_ended)
            {
                return;
            }

            report = TakeReport(final: false);
        }

        _events!.Publish(report);
    }

    /// <summary>
    /// Under the gate. A periodic report covers its interval; the final one covers the whole stream (its last interval
    /// still goes to the jitter and loss histograms), so a consumer that wants one summary per stream reads only it.
    /// </summary>
    private MediaQualityReported TakeReport(bool final)
    {
        var info = _info!;
        var now = _time.GetUtcNow();
        var interval = _audio!.Quality.TakeInterval();
        var dropped = _sinks!.DroppedFrames;
        _metrics.Reported(_provider, interval);
        var (quality, span, droppedFrames) = final
            ? (_audio.Quality.Total, now - info.StartedAt, dropped)
            : (interval, now - _lastReportAt, dropped - _reportedDropped);
        _lastReportAt = now;
        _reportedDropped = dropped;
        return new MediaQualityReported(
            Guid.CreateVersion7(), now, info.CallId, _provider, info.StreamId, span,
            FramesExpected: quality.Expected,
            FramesReceived: quality.Received,
            PacketLossRatio: quality.PacketLossRatio,
            JitterMilliseconds: quality.JitterMilliseconds,
            OutOfOrderFrames: quality.OutOfOrder,
            EstimatedMos: Math.Round(quality.EstimatedMos, 2),
            ProviderCallId: info.CallId,
            LostFrames: quality.Lost,
            LateFrames: quality.Late,
            SilenceRatio: quality.SilenceRatio,
            DroppedFrames: droppedFrames,
            Final: final);
    }

    public void Release(MediaTrack track, ReadOnlySpan<short> pcm, TimeSpan streamTime, long arrivalTimestamp)
    {
        _sinks!.Audio(track, pcm, streamTime);
        _metrics.Latency(_provider, _time.GetElapsedTime(arrivalTimestamp));
    }

    public void Lost(MediaTrack track, long count) => _metrics.FramesLost(_provider, count);

    /// <summary>
    /// Ends the stream from outside the read loop (start timeout, shutdown): sends our close frame; the read loop ends
    /// when the provider answers it, or when the connection is dropped because it did not in time.
    /// </summary>
    private void RequestClose(StreamEnd end)
    {
        if (Interlocked.CompareExchange(ref _requestedClose, end, null) is not null)
        {
            return;
        }

        LogClosing(_logger, _provider, _info?.StreamId, end.Reason);
        _ = Task.Run(async () =>
        {
            try
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                await _writer.CloseOutputAsync(end.Close!.Value, end.Reason, timeout.Token);
                await Task.Delay(CloseTimeout, _time);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
                // Already going.
            }

            if (_socket.State is not (WebSocketState.Closed or WebSocketState.Aborted))
            {
                _socket.Abort();
            }
        });
    }

    private async Task FinishAsync(StreamEnd end)
    {
        var info = _info;
        if (info is not null)
        {
            lock (_gate)
            {
                _audio!.Flush();
            }

            _holdTimer!.Dispose();
            await _output!.StopAsync(CloseTimeout);
        }

        if (end.Close is { } status && _socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                await _writer.CloseAsync(status, end.Reason, timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The provider went away first.
            }
        }

        if (info is null)
        {
            LogEndedBeforeStart(_logger, _provider, MediaStreamMetrics.OutcomeLabel(end.Outcome), end.Reason);
            return;
        }

        var reason = MediaStreamMetrics.OutcomeLabel(end.Outcome);
        await _sinks!.StopAsync(reason, _options.SinkStopTimeout);
        await _reportTimer!.DisposeAsync();

        MediaQualityReported final;
        QualitySnapshot total;
        lock (_gate)
        {
            _ended = true;
            final = TakeReport(final: true);
            total = _audio!.Quality.Total;
            _audio.Dispose();
        }

        var now = _time.GetUtcNow();
        _events!.Publish(final);
        _events.Publish(new MediaStreamEnded(
            Guid.CreateVersion7(), now, info.CallId, _provider, info.StreamId, reason,
            total.Received, _output!.FramesSent, now - info.StartedAt, info.CallId));
        _events.Complete();
        LogEnded(_logger, _provider, info.StreamId, reason, total.Received, total.Lost, total.Late, _output.FramesSent);
    }

    private static async Task LingerAsync(CancellationToken connectionClosed)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1), connectionClosed);
        }
        catch (OperationCanceledException)
        {
            // The peer closed first: nothing to wait for.
        }
    }

    private static string EventLabel(MediaEventKind kind) => kind switch
    {
        MediaEventKind.Connected => "connected",
        MediaEventKind.Start => "start",
        MediaEventKind.Media => "media",
        MediaEventKind.Dtmf => "dtmf",
        MediaEventKind.Mark => "mark",
        MediaEventKind.Stop => "stop",
        MediaEventKind.Error => "error",
        _ => "unknown",
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider} media stream {StreamId} of call {CallId} started: {Encoding} at {SampleRate} Hz, {Sinks} sinks")]
    private static partial void LogStarted(ILogger logger, TelephonyProvider provider, string streamId, string callId, WireEncoding encoding, int sampleRate, int sinks);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider} media stream {StreamId} ended ({Outcome}): {Received} frames received, {Lost} lost, {Late} late, {Sent} sent")]
    private static partial void LogEnded(ILogger logger, TelephonyProvider provider, string streamId, string outcome, long received, long lost, long late, long sent);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider} media stream ended before it started ({Outcome}: {Reason})")]
    private static partial void LogEndedBeforeStart(ILogger logger, TelephonyProvider provider, string outcome, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Provider} media stream {StreamId} of call {CallId} refused: {Outcome}")]
    private static partial void LogRefused(ILogger logger, TelephonyProvider provider, string streamId, string callId, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Provider} media stream {StreamId} sent a malformed message ({Reason}); closing that stream")]
    private static partial void LogMalformed(ILogger logger, TelephonyProvider provider, string? streamId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Provider} media stream {StreamId} reported an error: {Code} {Title}")]
    private static partial void LogProviderError(ILogger logger, TelephonyProvider provider, string? streamId, string? code, string? title);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider} media stream {StreamId} ended abruptly ({ErrorCode})")]
    private static partial void LogStreamBroken(ILogger logger, TelephonyProvider provider, string? streamId, WebSocketError errorCode);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Provider} media stream {StreamId} failed")]
    private static partial void LogStreamFailed(ILogger logger, Exception exception, TelephonyProvider provider, string? streamId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closing {Provider} media stream {StreamId}: {Reason}")]
    private static partial void LogClosing(ILogger logger, TelephonyProvider provider, string? streamId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sink factory {Factory} failed for stream {StreamId} ({Error}); the stream goes on without it")]
    private static partial void LogSinkFactoryFailed(ILogger logger, Exception exception, string factory, string streamId, string error);

    /// <summary>How a stream ended; <paramref name="Close"/> is the close frame we still have to send, if any.</summary>
    private sealed record StreamEnd(StreamOutcome Outcome, string Reason, WebSocketCloseStatus? Close);
}
