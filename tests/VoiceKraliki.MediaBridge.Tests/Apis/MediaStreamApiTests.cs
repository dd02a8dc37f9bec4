using System.Diagnostics.Metrics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.MediaBridge.Tests.Support;

namespace VoiceKraliki.MediaBridge.Tests.Apis;

/// <summary>The provider media-stream WebSockets of the real service, over real sockets.</summary>
public class MediaStreamApiTests(MediaBridgeFixture fixture) : IClassFixture<MediaBridgeFixture>
{
    private const string Connected = """{"event":"connected","protocol":"Call","version":"1.0.0"}""";
    private const string Start = """{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"streamSid":"MZ1"}""";
    private const string Media = """{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"20","payload":"/////w=="},"streamSid":"MZ1"}""";
    private const string Stop = """{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"AC1","callSid":"CA1"},"streamSid":"MZ1"}""";

    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    private async Task<ClientWebSocket> ConnectAsync(string path = "/media/twilio")
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(fixture.Factory.WebSocketUri(path), Timeout());
        return socket;
    }

    private static Task SendTextAsync(WebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, Timeout());

    /// <summary>Waits for the server to close the stream and returns the close status it gave.</summary>
    private static async Task<WebSocketCloseStatus?> ServerCloseAsync(ClientWebSocket socket)
    {
        var buffer = new byte[1024];
        var cancellationToken = Timeout();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                }

                return result.CloseStatus;
            }
        }
    }

    [Theory]
    [InlineData("/media/twilio")]
    [InlineData("/media/telnyx")]
    public async Task A_plain_get_is_refused_with_400_problem_details(string path)
    {
        using var client = fixture.Factory.CreateSocketClient();
        using var response = await client.GetAsync(path, Timeout());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(400, json.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("WebSocket upgrade required", json.RootElement.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData("/media/twilio")]
    [InlineData("/media/telnyx")]
    public async Task A_stream_that_sends_stop_is_closed_normally_by_the_server(string path)
    {
        using var socket = await ConnectAsync(path);
        await SendTextAsync(socket, Connected);
        await SendTextAsync(socket, Start);
        for (var i = 0; i < 50; i++)
        {
            await SendTextAsync(socket, Media);
        }

        await SendTextAsync(socket, Stop);

        Assert.Equal(WebSocketCloseStatus.NormalClosure, await ServerCloseAsync(socket));
        Assert.Equal("stream stopped", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task Until_stop_the_server_keeps_the_stream_open()
    {
        using var socket = await ConnectAsync();
        await SendTextAsync(socket, Connected);
        await SendTextAsync(socket, Media);

        // Nothing comes back while the stream is open: a receive only ends when we give up on it.
        using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => socket.ReceiveAsync(new byte[16], wait.Token));
    }

    [Fact]
    public async Task Malformed_json_closes_that_stream_with_1007_and_a_concurrent_stream_is_unaffected()
    {
        using var bystander = await ConnectAsync("/media/telnyx");
        using var broken = await ConnectAsync("/media/twilio");
        await SendTextAsync(bystander, Connected);
        await SendTextAsync(broken, Connected);

        await SendTextAsync(broken, """{"event":"media","media":{"payload":""");

        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, await ServerCloseAsync(broken));
        Assert.Equal(WebSocketState.Open, bystander.State);
        for (var i = 0; i < 10; i++)
        {
            await SendTextAsync(bystander, Media);
        }

        await SendTextAsync(bystander, Stop);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await ServerCloseAsync(bystander));
    }

    [Theory]
    [InlineData("""{"media":{"event":"stop"}}""")]
    [InlineData("""["event","stop"]""")]
    [InlineData("""{"event":"stop"} trailing""")]
    public async Task A_message_without_a_readable_top_level_event_closes_the_stream_with_1007(string message)
    {
        using var socket = await ConnectAsync();
        await SendTextAsync(socket, message);

        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, await ServerCloseAsync(socket));
    }

    [Fact]
    public async Task A_text_message_with_invalid_utf8_closes_the_stream_with_1007()
    {
        using var socket = await ConnectAsync();
        byte[] invalid = [.. "{\"event\":\""u8, 0xC3, 0x28, .. "\"}"u8];
        await socket.SendAsync(invalid, WebSocketMessageType.Text, true, Timeout());

        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, await ServerCloseAsync(socket));
    }

    [Fact]
    public async Task A_binary_message_closes_the_stream_with_1003()
    {
        using var socket = await ConnectAsync();
        await SendTextAsync(socket, Connected);
        await socket.SendAsync(new byte[160], WebSocketMessageType.Binary, true, Timeout());

        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, await ServerCloseAsync(socket));
    }

    [Fact]
    public async Task A_message_over_MaxMessageBytes_closes_the_stream_with_1009()
    {
        using var socket = await ConnectAsync();
        var oversize = "{\"event\":\"media\",\"media\":{\"payload\":\"" + new string('A', fixture.Factory.MaxMessageBytes) + "\"}}";
        await SendTextAsync(socket, oversize);

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, await ServerCloseAsync(socket));
    }

    [Fact]
    public async Task A_message_of_exactly_MaxMessageBytes_is_accepted()
    {
        using var socket = await ConnectAsync();
        var head = "{\"event\":\"media\",\"media\":{\"payload\":\"";
        const string tail = "\"}}";
        var exact = head + new string('A', fixture.Factory.MaxMessageBytes - head.Length - tail.Length) + tail;
        Assert.Equal(fixture.Factory.MaxMessageBytes, Encoding.UTF8.GetByteCount(exact));

        await SendTextAsync(socket, exact);
        await SendTextAsync(socket, Stop);

        Assert.Equal(WebSocketCloseStatus.NormalClosure, await ServerCloseAsync(socket));
    }

    [Fact]
    public async Task A_message_sent_in_several_fragments_is_read_as_one()
    {
        using var socket = await ConnectAsync();
        var bytes = Encoding.UTF8.GetBytes(Stop);
        await socket.SendAsync(bytes.AsMemory(0, 10), WebSocketMessageType.Text, false, Timeout());
        await socket.SendAsync(bytes.AsMemory(10, 20), WebSocketMessageType.Text, false, Timeout());
        await socket.SendAsync(bytes.AsMemory(30), WebSocketMessageType.Text, true, Timeout());

        Assert.Equal(WebSocketCloseStatus.NormalClosure, await ServerCloseAsync(socket));
    }

    [Fact]
    public async Task A_client_close_is_answered_with_a_normal_close()
    {
        using var socket = await ConnectAsync();
        await SendTextAsync(socket, Connected);

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", Timeout());

        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task Unknown_events_are_counted_as_unknown_and_ignored()
    {
        var messages = new List<(long Value, string? Event, string? Provider)>();
        using var listener = new MeterListener();
        var meterFactory = fixture.Factory.Services.GetRequiredService<IMeterFactory>();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == meterFactory && instrument.Name == "voicekraliki.media.messages")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? eventName = null, provider = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "event") eventName = tag.Value as string;
                if (tag.Key == "provider") provider = tag.Value as string;
            }

            lock (messages)
            {
                messages.Add((value, eventName, provider));
            }
        });
        listener.Start();

        using var socket = await ConnectAsync("/media/telnyx");
        var marker = $"vendor-{Guid.NewGuid():N}";
        await SendTextAsync(socket, $$"""{"event":"{{marker}}","stream_id":"s1"}""");
        await SendTextAsync(socket, """{"event":"media","stream_id":"s1","media":{"payload":"1dXV1Q=="}}""");
        await SendTextAsync(socket, """{"event":"stop","stream_id":"s1"}""");
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await ServerCloseAsync(socket));

        lock (messages)
        {
            // Other streams of this server may run in parallel: look only for telnyx, and never for the raw name.
            Assert.DoesNotContain(messages, m => m.Event == marker);
            Assert.Contains(messages, m => m is { Value: 1, Event: "unknown", Provider: "telnyx" });
            Assert.Contains(messages, m => m is { Value: 1, Event: "media", Provider: "telnyx" });
            Assert.Contains(messages, m => m is { Value: 1, Event: "stop", Provider: "telnyx" });
        }
    }
}
