using System.Buffers;
using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.MediaBridge.Sinks.Agent;

/// <summary>
/// Bridges one stream to an AI agent over a WebSocket (docs/media-agent-protocol.md): the caller's audio goes to the
/// agent resampled to its rate, the agent's audio, marks and barge-in come back to the provider. The agent is never
/// trusted to be quick: the sink connects in the background (the stream's start never waits for the agent; this sink's
/// own queue holds the caller's first audio meanwhile), every send has a timeout, and an agent that is unreachable,
/// slow, gone, or breaks the connection is dropped (logged once; the sink then does nothing and the stream carries
/// on). There is no reconnect.
/// </summary>
internal sealed partial class AgentSink : IMediaSink
{
    /// <summary>How much of a binary message is read (and played) at a time; agent audio is never held whole.</summary>
    private const int ReceiveChunkBytes = 16 * 1024;

    private readonly ClientWebSocket _socket = new();
    private readonly Uri _agent;
    private readonly MediaStreamInfo _stream;
    private readonly IProviderOutput _output;
    private readonly AgentOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly PcmResampler? _resampler;
    private readonly AgentProtocol _protocol = new();
    private readonly CancellationTokenSource _lifetime = new();
    private CancellationTokenSource _sendTimeout;
    private short[] _resampled = [];
    private byte[] _sendBuffer = [];
    private Task<bool> _ready = Task.FromResult(false);
    private Task _receiveLoop = Task.CompletedTask;
    private int _dropped;
    private volatile bool _stopped;
    private bool _disposed;
    private long _ignoredMessages;
    private long _malformedMessages;

    private AgentSink(Uri agent, MediaStreamInfo stream, IProviderOutput output, AgentOptions options, TimeProvider time, ILogger logger)
    {
        _agent = agent;
        _stream = stream;
        _output = output;
        _options = options;
        _resampler = stream.SampleRate == options.SampleRate ? null : new PcmResampler(stream.SampleRate, options.SampleRate);
        _time = time;
        _logger = logger;
        _sendTimeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
    }

    public string Name => "agent";

    /// <summary>Valid agent messages we do not act on.</summary>
    public long IgnoredMessages => Interlocked.Read(ref _ignoredMessages);

    /// <summary>Agent messages that broke the protocol (and were ignored).</summary>
    public long MalformedMessages => Interlocked.Read(ref _malformedMessages);

    /// <summary>Whether the agent was dropped (it could not be reached, failed, was too slow, or went away).</summary>
    public bool IsDropped => Volatile.Read(ref _dropped) != 0;

    private string AgentHost => _agent.Authority;

    /// <summary>
    /// A sink for <paramref name="agent"/>, already connecting (within <c>Agent:ConnectTimeout</c>) and about to send
    /// <c>start</c>; null (logged) when the stream's rate cannot be converted. Never waits for, or throws because of,
    /// the agent.
    /// </summary>
    public static AgentSink? Start(Uri agent, MediaStreamInfo stream, IProviderOutput output, AgentOptions options, TimeProvider time, ILogger logger)
    {
        if (!PcmResampler.IsSupportedRate(stream.SampleRate))
        {
            LogUnsupportedRate(logger, stream.CallId, stream.StreamId, stream.SampleRate);
            return null;
        }

        var sink = new AgentSink(agent, stream, output, options, time, logger);
        sink._ready = Task.Run(sink.ConnectAsync, CancellationToken.None);
        return sink;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask OnAudioAsync(MediaTrack track, ReadOnlyMemory<short> pcm, TimeSpan streamTime, CancellationToken cancellationToken)
    {
        // Only the caller goes to the agent; the outbound track is what we (or it) play.
        if (track != MediaTrack.Inbound || _stopped || !await ReadyAsync(cancellationToken))
        {
            return;
        }

        var bytes = EncodeForAgent(pcm.Span);
        if (bytes > 0)
        {
            await SendAsync(_sendBuffer.AsMemory(0, bytes), WebSocketMessageType.Binary, cancellationToken);
        }
    }

    public async ValueTask OnDtmfAsync(string digit, CancellationToken cancellationToken)
    {
        if (!_stopped && await ReadyAsync(cancellationToken))
        {
            await SendAsync(_protocol.Dtmf(digit), WebSocketMessageType.Text, cancellationToken);
        }
    }

    public async ValueTask OnMarkAsync(string name, CancellationToken cancellationToken)
    {
        if (!_stopped && await ReadyAsync(cancellationToken))
        {
            await SendAsync(_protocol.Mark(name), WebSocketMessageType.Text, cancellationToken);
        }
    }

    public async ValueTask OnStopAsync(string reason, CancellationToken cancellationToken)
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        if (!_ready.IsCompleted)
        {
            // Still connecting: there is nothing to tell an agent that never heard the start.
            await _lifetime.CancelAsync();
            return;
        }

        if (IsDropped)
        {
            return;
        }

        await SendAsync(_protocol.Stop(), WebSocketMessageType.Text, cancellationToken);
        if (IsDropped)
        {
            return;
        }

        try
        {
            // Close our side, then give the agent a moment to close its side (the receive loop ends when it does).
            using var timeout = new CancellationTokenSource(_options.SendTimeout, _time);
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "stream stopped", timeout.Token);
            await _receiveLoop.WaitAsync(_options.SendTimeout, _time, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException or WebSocketException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // The stream is over either way; DisposeAsync aborts what is left.
        }

        LogStopped(_logger, _stream.CallId, _stream.StreamId, IgnoredMessages, MalformedMessages);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _lifetime.CancelAsync();
        _socket.Abort();
        await _ready;
        try
        {
            await _receiveLoop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // Ended by the abort above.
        }

        _socket.Dispose();
        _sendTimeout.Dispose();
        _lifetime.Dispose();
    }

    /// <summary>Connects and sends <c>start</c>; false (and dropped) when that fails or times out. Never throws.</summary>
    private async Task<bool> ConnectAsync()
    {
        try
        {
            using (var timeout = new CancellationTokenSource(_options.ConnectTimeout, _time))
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token, timeout.Token))
            {
                await _socket.ConnectAsync(_agent, connect.Token);
            }

            await SendAsync(_protocol.Start(_stream, _options.SampleRate), WebSocketMessageType.Text, _lifetime.Token);
            if (IsDropped)
            {
                return false;
            }

            _receiveLoop = Task.Run(ReceiveLoopAsync, CancellationToken.None);
            LogConnected(_logger, AgentHost, _stream.CallId, _stream.StreamId, _options.SampleRate);
            return true;
        }
        catch (Exception ex) when (!_lifetime.IsCancellationRequested)
        {
            Drop(null);
            LogConnectFailed(_logger, AgentHost, _stream.CallId, _stream.StreamId,
                ex is OperationCanceledException ? $"no connection within Agent:ConnectTimeout ({_options.ConnectTimeout})" : ex.Message);
            return false;
        }
        catch (Exception)
        {
            // The stream ended (or the sink was disposed) while connecting.
            Drop(null);
            return false;
        }
    }

    /// <summary>Whether the agent is there to talk to; while it is still connecting, this sink's pump waits for it.</summary>
    private ValueTask<bool> ReadyAsync(CancellationToken cancellationToken) =>
        _ready.IsCompletedSuccessfully ? ValueTask.FromResult(_ready.Result && !IsDropped) : WaitForConnectionAsync(cancellationToken);

    private async ValueTask<bool> WaitForConnectionAsync(CancellationToken cancellationToken) =>
        await _ready.WaitAsync(cancellationToken) && !IsDropped;

    /// <summary>Resamples the caller's PCM16 to the agent's rate into <see cref="_sendBuffer"/> (little-endian); the byte count.</summary>
    private int EncodeForAgent(ReadOnlySpan<short> pcm)
    {
        if (_resampler is not null)
        {
            var most = _resampler.MaxOutputLength(pcm.Length);
            if (_resampled.Length < most)
            {
                _resampled = new short[most];
            }

            pcm = _resampled.AsSpan(0, _resampler.Process(pcm, _resampled));
        }

        // A resampler that is still filling gives nothing: never send an empty frame.
        if (pcm.IsEmpty)
        {
            return 0;
        }

        var length = pcm.Length * sizeof(short);
        if (_sendBuffer.Length < length)
        {
            _sendBuffer = new byte[length];
        }

        var bytes = _sendBuffer.AsSpan(0, length);
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(pcm).CopyTo(bytes);
        }
        else
        {
            for (var i = 0; i < pcm.Length; i++)
            {
                BinaryPrimitives.WriteInt16LittleEndian(bytes[(2 * i)..], pcm[i]);
            }
        }

        return length;
    }

    private async ValueTask SendAsync(ReadOnlyMemory<byte> message, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        if (IsDropped)
        {
            return;
        }

        if (!_sendTimeout.TryReset())
        {
            _sendTimeout.Dispose();
            _sendTimeout = new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time);
        }

        _sendTimeout.CancelAfter(_options.SendTimeout);
        using var linked = cancellationToken.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), _sendTimeout);
        try
        {
            await _socket.SendAsync(message, type, endOfMessage: true, _sendTimeout.Token);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Drop(_lifetime.IsCancellationRequested ? null : "the stream was cancelled");
            throw;
        }
        catch (OperationCanceledException)
        {
            Drop($"a send took longer than Agent:SendTimeout ({_options.SendTimeout})");
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            Drop(ex.Message);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var token = _lifetime.Token;
        var textLimit = _options.MaxMessageBytes;
        var bufferLength = Math.Max(textLimit, ReceiveChunkBytes);
        var buffer = ArrayPool<byte>.Shared.Rent(bufferLength);
        var pcm = ArrayPool<short>.Shared.Rent((ReceiveChunkBytes / 2) + 1);
        var oddByte = -1;
        var textLength = 0;
        var discardingText = false;
        try
        {
            while (true)
            {
                // A text message is gathered whole (up to the limit); binary audio is read a chunk at a time.
                var room = textLength > 0 ? bufferLength - textLength : ReceiveChunkBytes;
                var result = await _socket.ReceiveAsync(buffer.AsMemory(textLength, room), token);
                switch (result.MessageType)
                {
                    case WebSocketMessageType.Close when _stopped:
                        // The agent's answer to our close after stop: the conversation ended as it should.
                        return;

                    case WebSocketMessageType.Close:
                        LogAgentClosed(_logger, AgentHost, _stream.CallId, _socket.CloseStatus, _socket.CloseStatusDescription);
                        Drop(null);
                        return;

                    case WebSocketMessageType.Binary:
                        var samples = DecodeFromAgent(buffer.AsSpan(0, result.Count), pcm, ref oddByte);
                        if (samples > 0)
                        {
                            await _output.SendAudioAsync(pcm.AsMemory(0, samples), _options.SampleRate, token);
                        }

                        if (result.EndOfMessage && oddByte >= 0)
                        {
                            oddByte = -1;
                            Malformed("a binary message of an odd number of bytes (its last byte was dropped)");
                        }

                        break;

                    default:
                        textLength += result.Count;
                        if (discardingText)
                        {
                            discardingText = !result.EndOfMessage;
                            textLength = 0;
                        }
                        else if (textLength > textLimit || (!result.EndOfMessage && textLength == textLimit))
                        {
                            Malformed($"a text message longer than Agent:MaxMessageBytes ({textLimit} bytes)");
                            discardingText = !result.EndOfMessage;
                            textLength = 0;
                        }
                        else if (result.EndOfMessage)
                        {
                            await HandleControlAsync(buffer.AsMemory(0, textLength), token);
                            textLength = 0;
                        }

                        break;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Disposed.
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            Drop(ex.Message);
        }
        catch (Exception ex)
        {
            // The way back to the provider failed (the stream is closing): nothing more to play.
            Drop($"the provider output failed ({ex.GetType().Name}: {ex.Message})");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<short>.Shared.Return(pcm);
        }
    }

    private async ValueTask HandleControlAsync(ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        switch (AgentProtocol.Parse(json.Span, out var markName))
        {
            case AgentCommand.Clear:
                await _output.ClearAsync(cancellationToken);
                break;
            case AgentCommand.Mark:
                await _output.SendMarkAsync(markName!, cancellationToken);
                break;
            case AgentCommand.Other:
                Interlocked.Increment(ref _ignoredMessages);
                break;
            default:
                Malformed("a text message that is not a JSON object with a string event (or a mark without a name)");
                break;
        }
    }

    /// <summary>PCM16 little-endian bytes to samples, carrying an odd last byte over to the next piece of the message.</summary>
    private static int DecodeFromAgent(ReadOnlySpan<byte> bytes, short[] pcm, ref int oddByte)
    {
        var count = 0;
        if (oddByte >= 0 && !bytes.IsEmpty)
        {
            pcm[count++] = (short)(oddByte | (bytes[0] << 8));
            bytes = bytes[1..];
            oddByte = -1;
        }

        for (var i = 0; i + 1 < bytes.Length; i += 2)
        {
            pcm[count++] = BinaryPrimitives.ReadInt16LittleEndian(bytes[i..]);
        }

        if ((bytes.Length & 1) == 1)
        {
            oddByte = bytes[^1];
        }

        return count;
    }

    private void Malformed(string what)
    {
        // The first one is worth a warning; a stream of them would flood the log, so the rest are counted (and logged at stop).
        if (Interlocked.Increment(ref _malformedMessages) == 1)
        {
            LogMalformed(_logger, AgentHost, _stream.CallId, what);
        }
    }

    /// <summary>Gives up on the agent for the rest of the stream: logs once (null: already logged), aborts the connection.</summary>
    private void Drop(string? reason)
    {
        if (Interlocked.Exchange(ref _dropped, 1) != 0)
        {
            return;
        }

        if (reason is not null)
        {
            LogDropped(_logger, AgentHost, _stream.CallId, _stream.StreamId, reason);
        }

        _socket.Abort();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentHost} connected for call {CallId} stream {StreamId} at {SampleRate} Hz")]
    private static partial void LogConnected(ILogger logger, string agentHost, string callId, string streamId, int sampleRate);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentHost} could not be reached for call {CallId} stream {StreamId} ({Error}); the stream goes on without it")]
    private static partial void LogConnectFailed(ILogger logger, string agentHost, string callId, string streamId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentHost} dropped from call {CallId} stream {StreamId}: {Reason}; the stream goes on without it")]
    private static partial void LogDropped(ILogger logger, string agentHost, string callId, string streamId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentHost} closed the connection for call {CallId} ({CloseStatus} {CloseDescription})")]
    private static partial void LogAgentClosed(ILogger logger, string agentHost, string callId, WebSocketCloseStatus? closeStatus, string? closeDescription);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentHost} sent call {CallId} {What}; ignored (later ones are only counted)")]
    private static partial void LogMalformed(ILogger logger, string agentHost, string callId, string what);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent bridge for call {CallId} stream {StreamId} stopped; {Ignored} agent messages ignored, {Malformed} malformed")]
    private static partial void LogStopped(ILogger logger, string callId, string streamId, long ignored, long malformed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId} stream {StreamId} runs at {SampleRate} Hz, which cannot be resampled for an agent; no agent for it")]
    private static partial void LogUnsupportedRate(ILogger logger, string callId, string streamId, int sampleRate);
}
