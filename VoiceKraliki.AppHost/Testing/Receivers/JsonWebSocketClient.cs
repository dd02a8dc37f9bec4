using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace VoiceKraliki.AppHost.Testing.Receivers;

/// <summary>
/// The client end of a JSON-over-WebSocket stream for tests (a provider's media stream): sends text, fragments and
/// bytes, records every message the server sends with its arrival time (<see cref="Stopwatch"/> ticks), answers the
/// server's close and says how the stream closed.
/// </summary>
public sealed class JsonWebSocketClient : IAsyncDisposable
{
    private static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(20);

    private readonly ClientWebSocket _socket = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource<(WebSocketCloseStatus? Status, string? Description)> _closed =
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Task _receiving = Task.CompletedTask;

    private JsonWebSocketClient()
    {
    }

    public WebSocketState State => _socket.State;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseDescription => _socket.CloseStatusDescription;

    /// <summary>Every message the server sent, with <see cref="Stopwatch"/> ticks of its arrival.</summary>
    public ConcurrentQueue<(long At, JsonElement Message)> Received { get; } = new();

    /// <summary>Completes when the stream has closed (by either side, or broken).</summary>
    public Task Receiving => _receiving;

    public bool IsClosed => _closed.Task.IsCompleted;

    public static async Task<JsonWebSocketClient> ConnectAsync(Uri uri, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        var client = new JsonWebSocketClient();
        using var connect = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        await client._socket.ConnectAsync(uri, connect.Token);
        client._receiving = client.ReceiveLoopAsync();
        return client;
    }

    public async Task SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        using var timeout = Linked(cancellationToken);
        await _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, timeout.Token);
    }

    public async Task SendJsonAsync(object message, CancellationToken cancellationToken = default)
    {
        using var timeout = Linked(cancellationToken);
        await _socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, timeout.Token);
    }

    /// <summary>Sends <paramref name="text"/> as one message in several frames, cut at the given byte offsets.</summary>
    public async Task SendFragmentsAsync(string text, params int[] cuts)
    {
        ArgumentNullException.ThrowIfNull(cuts);
        var bytes = Encoding.UTF8.GetBytes(text);
        using var timeout = Linked(CancellationToken.None);
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
        using var timeout = Linked(CancellationToken.None);
        await _socket.SendAsync(bytes, type, true, timeout.Token);
    }

    /// <summary>Waits for the stream to close; returns the server's close status and description.</summary>
    public async Task<(WebSocketCloseStatus? Status, string? Description)> ClosedAsync(TimeSpan? within = null) =>
        await _closed.Task.WaitAsync(within ?? TimeSpan.FromSeconds(20));

    /// <summary>The received messages whose <c>event</c> is <paramref name="eventName"/>.</summary>
    public List<(long At, JsonElement Message)> Messages(string eventName) =>
        [.. Received.Where(m => m.Message.TryGetProperty("event", out var e) && e.GetString() == eventName)];

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

    /// <summary>Closes our side (if still open) and waits briefly for the server's answer.</summary>
    public async Task CloseAsync(string description = "bye")
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, description, timeout.Token);
                await _receiving.WaitAsync(timeout.Token);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The server went first.
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

    private CancellationTokenSource Linked(CancellationToken cancellationToken)
    {
        var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        linked.CancelAfter(SendTimeout);
        return linked;
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
