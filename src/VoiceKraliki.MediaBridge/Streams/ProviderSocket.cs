using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>What a stream sends back to the provider.</summary>
internal interface IProviderSender
{
    ValueTask SendMediaAsync(ReadOnlyMemory<byte> audio, CancellationToken cancellationToken);

    ValueTask SendMarkAsync(string name, CancellationToken cancellationToken);

    ValueTask SendClearAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The JSON we send on a bidirectional stream (PROTOCOLS.md §3, §6). Twilio: <c>{"event":"media","streamSid":…,
/// "media":{"payload":…}}</c>, <c>{"event":"mark","streamSid":…,"mark":{"name":…}}</c>, <c>{"event":"clear","streamSid":…}</c>.
/// Telnyx: the same without <c>streamSid</c> (the socket is the stream). The payload is written as base64 straight
/// from the audio bytes.
/// </summary>
internal sealed class ProviderMessageWriter
{
    private readonly JsonEncodedText? _streamSid;
    private readonly Utf8JsonWriter _json;
    private readonly ArrayBufferWriter<byte> _buffer;

    public ProviderMessageWriter(TelephonyProvider provider, string streamId)
    {
        _streamSid = provider == TelephonyProvider.Twilio ? JsonEncodedText.Encode(streamId) : null;
        _buffer = new ArrayBufferWriter<byte>(1024);
        _json = new Utf8JsonWriter(_buffer);
    }

    public ReadOnlyMemory<byte> Media(ReadOnlySpan<byte> audio)
    {
        Begin("media"u8);
        _json.WriteStartObject("media"u8);
        _json.WriteBase64String("payload"u8, audio);
        _json.WriteEndObject();
        return End();
    }

    public ReadOnlyMemory<byte> Mark(string name)
    {
        Begin("mark"u8);
        _json.WriteStartObject("mark"u8);
        _json.WriteString("name"u8, name);
        _json.WriteEndObject();
        return End();
    }

    public ReadOnlyMemory<byte> Clear()
    {
        Begin("clear"u8);
        return End();
    }

    private void Begin(ReadOnlySpan<byte> eventName)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        _json.WriteStartObject();
        _json.WriteString("event"u8, eventName);
        if (_streamSid is { } streamSid)
        {
            _json.WriteString("streamSid"u8, streamSid);
        }
    }

    private ReadOnlyMemory<byte> End()
    {
        _json.WriteEndObject();
        _json.Flush();
        return _buffer.WrittenMemory;
    }
}

/// <summary>
/// The one writer of a stream's socket: media, marks, clear and the close handshake go out one at a time, in the order
/// they are asked for.
/// </summary>
internal sealed class ProviderSocket(WebSocket socket) : IProviderSender, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ProviderMessageWriter? _messages;

    /// <summary>Set at <c>start</c>: until then there is nothing to send but a close.</summary>
    public void Started(TelephonyProvider provider, string streamId) => _messages = new ProviderMessageWriter(provider, streamId);

    public ValueTask SendMediaAsync(ReadOnlyMemory<byte> audio, CancellationToken cancellationToken) =>
        SendAsync(static (messages, audio, _) => messages.Media(audio.Span), audio, null, cancellationToken);

    public ValueTask SendMarkAsync(string name, CancellationToken cancellationToken) =>
        SendAsync(static (messages, _, name) => messages.Mark(name!), default, name, cancellationToken);

    public ValueTask SendClearAsync(CancellationToken cancellationToken) =>
        SendAsync(static (messages, _, _) => messages.Clear(), default, null, cancellationToken);

    /// <summary>Closes the stream with a close frame and waits for the provider's answer (or the token).</summary>
    public async Task CloseAsync(WebSocketCloseStatus status, string? reason, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseAsync(status, reason, cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends a close frame without waiting for the answer: the receive loop gets it.</summary>
    public async Task CloseOutputAsync(WebSocketCloseStatus status, string? reason, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await socket.CloseOutputAsync(status, reason, cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async ValueTask SendAsync(
        Func<ProviderMessageWriter, ReadOnlyMemory<byte>, string?, ReadOnlyMemory<byte>> write,
        ReadOnlyMemory<byte> audio,
        string? text,
        CancellationToken cancellationToken)
    {
        var messages = _messages ?? throw new InvalidOperationException("The stream has not started.");
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (socket.State != WebSocketState.Open)
            {
                throw new WebSocketException(WebSocketError.InvalidState, "The provider's stream is closing.");
            }

            // A cancelled WebSocket send aborts the whole connection, so the token only bounds the wait for our turn;
            // a send that the provider never reads is ended by the stream's close timeout instead.
            await socket.SendAsync(write(messages, audio, text), WebSocketMessageType.Text, true, CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }
    }
}
