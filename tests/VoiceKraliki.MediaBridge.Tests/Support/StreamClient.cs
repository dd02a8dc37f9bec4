extern alias apphost;

using System.Net.WebSockets;
using System.Text.Json;
using VoiceKraliki.Contracts;
using JsonWebSocketClient = apphost::VoiceKraliki.AppHost.Testing.Receivers.JsonWebSocketClient;

namespace VoiceKraliki.MediaBridge.Tests.Support;

/// <summary>
/// A provider's end of a media stream against the real service (the shared <see cref="JsonWebSocketClient"/> on the
/// provider's path): sends messages, records what the bridge sends back with its arrival time, answers the bridge's
/// close and tells how it closed.
/// </summary>
public sealed class StreamClient : IAsyncDisposable
{
    private readonly JsonWebSocketClient _socket;

    private StreamClient(TelephonyProvider provider, JsonWebSocketClient socket)
    {
        Provider = provider;
        _socket = socket;
    }

    public TelephonyProvider Provider { get; }

    public WebSocketState State => _socket.State;

    /// <summary>Every message the bridge sent, with <see cref="System.Diagnostics.Stopwatch"/> ticks of its arrival.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(long At, JsonElement Message)> Received => _socket.Received;

    public bool IsClosed => _socket.IsClosed;

    public static async Task<StreamClient> ConnectAsync(MediaBridgeFactory factory, TelephonyProvider provider, string? query = null)
    {
        var path = provider == TelephonyProvider.Twilio ? "/media/twilio" : "/media/telnyx";
        return new StreamClient(provider, await JsonWebSocketClient.ConnectAsync(factory.WebSocketUri(path, query)));
    }

    public Task SendAsync(string text) => _socket.SendTextAsync(text);

    /// <summary>Sends <paramref name="text"/> as one message in several frames, cut at the given byte offsets.</summary>
    public Task SendFragmentsAsync(string text, params int[] cuts) => _socket.SendFragmentsAsync(text, cuts);

    public Task SendBytesAsync(byte[] bytes, WebSocketMessageType type) => _socket.SendBytesAsync(bytes, type);

    /// <summary>Waits for the bridge to close the stream; returns its close status and description.</summary>
    public Task<(WebSocketCloseStatus? Status, string? Description)> ClosedAsync(TimeSpan? within = null) => _socket.ClosedAsync(within);

    /// <summary>The received messages whose event is <paramref name="eventName"/>.</summary>
    public List<(long At, JsonElement Message)> Messages(string eventName) => _socket.Messages(eventName);

    public Task<List<(long At, JsonElement Message)>> WaitForMessagesAsync(string eventName, int count, TimeSpan? within = null) =>
        _socket.WaitForMessagesAsync(eventName, count, within);

    public Task CloseAsync() => _socket.CloseAsync();

    public ValueTask DisposeAsync() => _socket.DisposeAsync();
}
