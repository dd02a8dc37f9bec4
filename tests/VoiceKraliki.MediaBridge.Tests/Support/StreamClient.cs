using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Tests.Support;

/// <summary>
/// A provider's end of a media stream against the real service: sends messages, records what the bridge sends back
/// (with its arrival time), answers the bridge's close and tells how it closed.
/// </summary>
public sealed class StreamClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<(WebSocketCloseStatus? Status, string? Description)> _closed =
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task _receiving = Task.CompletedTask;

    private StreamClient(TelephonyProvider provider) => Provider = provider;

    public TelephonyProvider Provider { get; }

    public WebSocketState State => _socket.State;

    /// <summary>Every message the bridge sent, with <see cref="Stopwatch"/> ticks of its arrival.</summary>
    public ConcurrentQueue<(long At, JsonElement Message)> Received { get; } = new();

    public static async Task<StreamClient> ConnectAsync(MediaBridgeFactory factory, TelephonyProvider provider, string? query = null)
    {
        var client = new StreamClient(provider);
        var path = provider == TelephonyProvider.Twilio ? "/media/twilio" : "/media/telnyx";
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await client._socket.ConnectAsync(factory.WebSocketUri(path, query), timeout.Token);
        client._receiving = client.ReceiveLoopAsync();
        return client;
    }

    public async Task SendAsync(string text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
    }

    /// <summary>Sends <paramref name="text"/> as one message in several frames, cut at the given byte offsets.</summary>
    public async Task SendFragmentsAsync(string text, params int[] cuts)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var from = 0;
        foreach (var cut in cuts)
        {
            await _socket.SendAsync(bytes.AsMemory(from, cut - from), WebSocketMessageType.Text, false, timeout.Token);
            from = cut;
        }

        await _socket.SendAsync(bytes.AsMemory(from), WebSocketMessageType.Text, true, timeout.Token);
    }

    public async Task SendBytesAsync(byte[] bytes, WebSocketMessageType type)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await _socket.SendAsync(bytes, type, true, timeout.Token);
    }

    /// <summary>Waits for the bridge to close the stream; returns its close status and description.</summary>
    public async Task<(WebSocketCloseStatus? Status, string? Description)> ClosedAsync(TimeSpan? within = null) =>
        await _closed.Task.WaitAsync(within ?? TimeSpan.FromSeconds(20));

    public bool IsClosed => _closed.Task.IsCompleted;

    /// <summary>The received messages whose event is <paramref name="eventName"/>.</summary>
    public List<(long At, JsonElement Message)> Messages(string eventName) =>
        [.. Received.Where(m => m.Message.GetProperty("event").GetString() == eventName)];

    public async Task<List<(long At, JsonElement Message)>> WaitForMessagesAsync(string eventName, int count, TimeSpan? within = null)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var found = Messages(eventName);
            if (found.Count >= count)
            {
                return found;
            }

            if (watch.Elapsed > (within ?? TimeSpan.FromSeconds(20)))
            {
                throw new TimeoutException($"{found.Count} of {count} '{eventName}' messages arrived.");
            }

            await Task.Delay(10);
        }
    }

    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
                await _receiving.WaitAsync(timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The bridge went first.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await CloseAsync();
        await _stop.CancelAsync();
        try
        {
            await _receiving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or WebSocketException)
        {
            // Gone.
        }

        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    length += result.Count;
                }
                while (!result.EndOfMessage && length < buffer.Length);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
                    }

                    _closed.TrySetResult((_socket.CloseStatus, _socket.CloseStatusDescription));
                    return;
                }

                var at = Stopwatch.GetTimestamp();
                using var document = JsonDocument.Parse(buffer.AsMemory(0, length));
                Received.Enqueue((at, document.RootElement.Clone()));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or JsonException)
        {
            _closed.TrySetResult((_socket.CloseStatus, _socket.CloseStatusDescription));
        }
    }
}
