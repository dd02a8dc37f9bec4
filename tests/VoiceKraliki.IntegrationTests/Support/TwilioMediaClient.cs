using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text.Json;
using VoiceKraliki.AppHost.Testing.Receivers;

namespace VoiceKraliki.IntegrationTests.Support;

/// <summary>
/// Plays Twilio's side of a bidirectional Media Stream (PROTOCOLS.md §3) against our gateway: connected, start (with
/// the stream token as a custom parameter), μ-law media frames of 20 ms paced in real time, dtmf, stop; and records
/// everything the bridge sends back with its arrival time (the shared <see cref="JsonWebSocketClient"/>).
/// </summary>
public sealed class TwilioMediaClient : IAsyncDisposable
{
    public const int FrameBytes = 160;

    private readonly JsonWebSocketClient _socket;
    private int _sequence;

    private TwilioMediaClient(string callSid, string streamSid, JsonWebSocketClient socket)
    {
        CallSid = callSid;
        StreamSid = streamSid;
        _socket = socket;
    }

    public string CallSid { get; }

    public string StreamSid { get; }

    /// <summary>Every message the bridge sent, with when it arrived (Stopwatch ticks).</summary>
    public ConcurrentQueue<(long At, JsonElement Message)> Received => _socket.Received;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseDescription => _socket.CloseDescription;

    public static async Task<TwilioMediaClient> ConnectAsync(Uri gateway, string callSid, string path = "/media/twilio")
    {
        var uri = new UriBuilder(gateway) { Scheme = gateway.Scheme == "https" ? "wss" : "ws", Path = path }.Uri;
        return new TwilioMediaClient(callSid, "MZ" + Guid.NewGuid().ToString("N"), await JsonWebSocketClient.ConnectAsync(uri, TimeSpan.FromSeconds(15)));
    }

    /// <summary>connected, then start with these custom parameters (e.g. token, from, to).</summary>
    public async Task StartAsync(IReadOnlyDictionary<string, string> customParameters, string[]? tracks = null)
    {
        await SendJsonAsync(new Dictionary<string, object> { ["event"] = "connected", ["protocol"] = "Call", ["version"] = "1.0.0" });
        await SendJsonAsync(new Dictionary<string, object>
        {
            ["event"] = "start",
            ["sequenceNumber"] = Next(),
            ["start"] = new Dictionary<string, object>
            {
                ["accountSid"] = "AC00000000000000000000000000000001",
                ["streamSid"] = StreamSid,
                ["callSid"] = CallSid,
                ["tracks"] = tracks ?? ["inbound"],
                ["mediaFormat"] = new Dictionary<string, object> { ["encoding"] = "audio/x-mulaw", ["sampleRate"] = 8000, ["channels"] = 1 },
                ["customParameters"] = customParameters,
            },
            ["streamSid"] = StreamSid,
        });
    }

    /// <summary>
    /// Sends <paramref name="mulaw"/> as 20 ms frames at real-time pace (absolute schedule). Frames whose index is in
    /// <paramref name="drop"/> are never sent (their sequence number is still used up); a frame in
    /// <paramref name="swapWithNext"/> is sent after the one following it.
    /// </summary>
    public async Task StreamAsync(byte[] mulaw, ISet<int>? drop = null, ISet<int>? swapWithNext = null, CancellationToken cancellationToken = default)
    {
        var frames = mulaw.Length / FrameBytes;
        var firstSequence = _sequence + 1;
        var order = Enumerable.Range(0, frames).ToArray();
        foreach (var i in swapWithNext ?? new HashSet<int>())
        {
            if (i + 1 < frames)
            {
                (order[i], order[i + 1]) = (order[i + 1], order[i]);
            }
        }

        _sequence += frames;
        var clock = Stopwatch.StartNew();
        for (var n = 0; n < frames; n++)
        {
            var due = TimeSpan.FromMilliseconds(20 * n);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, cancellationToken);
            }

            var i = order[n];
            if (drop?.Contains(i) == true)
            {
                continue;
            }

            await SendJsonAsync(new Dictionary<string, object>
            {
                ["event"] = "media",
                ["sequenceNumber"] = (firstSequence + i).ToString(CultureInfo.InvariantCulture),
                ["media"] = new Dictionary<string, object>
                {
                    ["track"] = "inbound",
                    ["chunk"] = (i + 1).ToString(CultureInfo.InvariantCulture),
                    ["timestamp"] = (20 * i).ToString(CultureInfo.InvariantCulture),
                    ["payload"] = Convert.ToBase64String(mulaw, i * FrameBytes, FrameBytes),
                },
                ["streamSid"] = StreamSid,
            }, cancellationToken);
        }
    }

    public Task SendDtmfAsync(string digit) => SendJsonAsync(new Dictionary<string, object>
    {
        ["event"] = "dtmf", ["streamSid"] = StreamSid, ["sequenceNumber"] = Next(),
        ["dtmf"] = new Dictionary<string, object> { ["track"] = "inbound_track", ["digit"] = digit },
    });

    public Task StopAsync() => SendJsonAsync(new Dictionary<string, object>
    {
        ["event"] = "stop", ["sequenceNumber"] = Next(), ["streamSid"] = StreamSid,
        ["stop"] = new Dictionary<string, object> { ["accountSid"] = "AC00000000000000000000000000000001", ["callSid"] = CallSid },
    });

    public Task SendTextAsync(string text, CancellationToken cancellationToken = default) => _socket.SendTextAsync(text, cancellationToken);

    /// <summary>Waits until the bridge closes the socket (or the time runs out); true when it closed.</summary>
    public async Task<bool> WaitForCloseAsync(TimeSpan within)
    {
        await Task.WhenAny(_socket.Receiving, Task.Delay(within));
        return _socket.Receiving.IsCompleted;
    }

    public Task CloseAsync() => _socket.CloseAsync("call ended");

    public ValueTask DisposeAsync() => _socket.DisposeAsync();

    private string Next() => Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture);

    private Task SendJsonAsync(object message, CancellationToken cancellationToken = default) => _socket.SendJsonAsync(message, cancellationToken);
}
