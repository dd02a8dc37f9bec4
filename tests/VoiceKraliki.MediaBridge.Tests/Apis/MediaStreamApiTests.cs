using System.Diagnostics.Metrics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Tests.Support;
using static VoiceKraliki.MediaBridge.Tests.Support.MediaMessages;

namespace VoiceKraliki.MediaBridge.Tests.Apis;

/// <summary>The provider media-stream WebSockets of the real service, over real sockets.</summary>
public class MediaStreamApiTests(MediaBridgeFixture fixture) : IClassFixture<MediaBridgeFixture>
{
    private static readonly byte[] Silence = Enumerable.Repeat((byte)0xFF, 160).ToArray();

    private Task<StreamClient> ConnectAsync(TelephonyProvider provider, string? query = null) =>
        StreamClient.ConnectAsync(fixture.Factory, provider, query);

    /// <summary>A started stream with a valid token: (client, call id, stream id).</summary>
    private async Task<(StreamClient Client, string CallId, string StreamId)> StartAsync(TelephonyProvider provider, params SinkBehaviour[] sinks)
    {
        var client = await ConnectAsync(provider);
        var callId = provider == TelephonyProvider.Twilio ? NewCallSid() : NewCallControlId();
        var streamId = "MZ" + Guid.NewGuid().ToString("N");
        if (sinks.Length > 0)
        {
            fixture.Sinks.Configure(callId, sinks);
        }

        await client.SendAsync(Connected(provider));
        await client.SendAsync(provider == TelephonyProvider.Twilio
            ? TwilioStart(callId, streamId, MediaBridgeFactory.TokenFor(provider, callId))
            : TelnyxStart(callId, streamId, token: MediaBridgeFactory.TokenFor(provider, callId)));
        return (client, callId, streamId);
    }

    private static string Media(TelephonyProvider provider, string streamId, int chunk, byte[]? payload = null) => provider == TelephonyProvider.Twilio
        ? TwilioMedia(streamId, chunk + 1, chunk, 20L * (chunk - 1), payload ?? Silence)
        : TelnyxMedia(streamId, chunk + 1, chunk, 20L * (chunk - 1), payload ?? Silence);

    private static string Stop(TelephonyProvider provider, string callId, string streamId) => provider == TelephonyProvider.Twilio
        ? TwilioStop(callId, streamId)
        : TelnyxStop(callId, streamId);

    [Theory]
    [InlineData("/media/twilio")]
    [InlineData("/media/telnyx")]
    public async Task A_plain_get_is_refused_with_400_problem_details(string path)
    {
        using var client = fixture.Factory.CreateSocketClient();
        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(400, json.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("WebSocket upgrade required", json.RootElement.GetProperty("title").GetString());
    }

    [Theory]
    [InlineData(TelephonyProvider.Twilio)]
    [InlineData(TelephonyProvider.Telnyx)]
    public async Task A_started_stream_that_sends_stop_is_closed_normally_and_its_sink_got_every_frame(TelephonyProvider provider)
    {
        var (client, callId, streamId) = await StartAsync(provider, new SinkBehaviour());
        await using var owned = client;
        for (var chunk = 1; chunk <= 50; chunk++)
        {
            await client.SendAsync(Media(provider, streamId, chunk));
        }

        await client.SendAsync(Stop(provider, callId, streamId));

        Assert.Equal((WebSocketCloseStatus.NormalClosure, "stream stopped"), await client.ClosedAsync());
        var sink = (await fixture.Sinks.WaitForAsync(callId)).Single();
        await sink.Disposed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(50, sink.Audio.Count);
        Assert.Equal("completed", sink.StopReason);
        Assert.Equal(streamId, sink.Info.StreamId);
        Assert.Equal(provider, sink.Info.Provider);
        Assert.DoesNotContain("token", sink.Info.Parameters.Keys);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => TimeSpan.FromMilliseconds(20 * i)), sink.Audio.Select(a => a.StreamTime));
    }

    [Fact]
    public async Task Until_stop_the_server_keeps_a_started_stream_open()
    {
        var (client, _, streamId) = await StartAsync(TelephonyProvider.Twilio);
        await using var owned = client;
        await client.SendAsync(Media(TelephonyProvider.Twilio, streamId, 1));

        await Task.Delay(500);

        Assert.False(client.IsClosed);
        Assert.Equal(WebSocketState.Open, client.State);
    }

    [Fact]
    public async Task Malformed_json_closes_that_stream_with_1007_and_a_concurrent_stream_is_unaffected()
    {
        var (bystander, bystanderCall, bystanderStream) = await StartAsync(TelephonyProvider.Telnyx, new SinkBehaviour());
        var (broken, _, brokenStream) = await StartAsync(TelephonyProvider.Twilio);
        await using var a = bystander;
        await using var b = broken;
        await bystander.SendAsync(Media(TelephonyProvider.Telnyx, bystanderStream, 1));
        await broken.SendAsync(Media(TelephonyProvider.Twilio, brokenStream, 1));

        await broken.SendAsync("""{"event":"media","media":{"payload":""");

        Assert.Equal((WebSocketCloseStatus.InvalidPayloadData, "malformed JSON message"), await broken.ClosedAsync());
        Assert.False(bystander.IsClosed);
        for (var chunk = 2; chunk <= 11; chunk++)
        {
            await bystander.SendAsync(Media(TelephonyProvider.Telnyx, bystanderStream, chunk));
        }

        await bystander.SendAsync(Stop(TelephonyProvider.Telnyx, bystanderCall, bystanderStream));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, (await bystander.ClosedAsync()).Status);
        var sink = (await fixture.Sinks.WaitForAsync(bystanderCall)).Single();
        await sink.Disposed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(11, sink.Audio.Count);
    }

    [Theory]
    [InlineData("""{"media":{"event":"stop"}}""")]
    [InlineData("""["event","stop"]""")]
    [InlineData("""{"event":"stop"} trailing""")]
    [InlineData("""{"event":42}""")]
    public async Task A_message_without_a_readable_top_level_event_closes_the_stream_with_1007(string message)
    {
        await using var client = await ConnectAsync(TelephonyProvider.Twilio);
        await client.SendAsync(message);

        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, (await client.ClosedAsync()).Status);
    }

    [Fact]
    public async Task A_text_message_with_invalid_utf8_closes_the_stream_with_1007()
    {
        await using var client = await ConnectAsync(TelephonyProvider.Twilio);
        byte[] invalid = [.. "{\"event\":\""u8, 0xC3, 0x28, .. "\"}"u8];
        await client.SendBytesAsync(invalid, WebSocketMessageType.Text);

        Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, (await client.ClosedAsync()).Status);
    }

    [Fact]
    public async Task A_binary_message_closes_the_stream_with_1003()
    {
        await using var client = await ConnectAsync(TelephonyProvider.Twilio);
        await client.SendAsync(Connected(TelephonyProvider.Twilio));
        await client.SendBytesAsync(new byte[160], WebSocketMessageType.Binary);

        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, (await client.ClosedAsync()).Status);
    }

    [Fact]
    public async Task A_message_over_MaxMessageBytes_closes_the_stream_with_1009()
    {
        await using var client = await ConnectAsync(TelephonyProvider.Twilio);
        await client.SendAsync("{\"event\":\"padding\",\"x\":\"" + new string('A', fixture.Factory.MaxMessageBytes) + "\"}");

        Assert.Equal(WebSocketCloseStatus.MessageTooBig, (await client.ClosedAsync()).Status);
    }

    [Fact]
    public async Task A_message_of_exactly_MaxMessageBytes_is_accepted()
    {
        await using var client = await ConnectAsync(TelephonyProvider.Twilio);
        const string head = "{\"event\":\"padding\",\"x\":\"";
        const string tail = "\"}";
        var exact = head + new string('A', fixture.Factory.MaxMessageBytes - head.Length - tail.Length) + tail;
        Assert.Equal(fixture.Factory.MaxMessageBytes, Encoding.UTF8.GetByteCount(exact));

        await client.SendAsync(exact);
        await client.SendAsync(TwilioStop("CA1", "MZ1"));

        Assert.Equal(WebSocketCloseStatus.NormalClosure, (await client.ClosedAsync()).Status);
    }

    [Fact]
    public async Task A_message_sent_in_several_fragments_is_read_as_one()
    {
        var (client, callId, streamId) = await StartAsync(TelephonyProvider.Twilio);
        await using var owned = client;
        await client.SendFragmentsAsync(TwilioStop(callId, streamId), 10, 30);

        Assert.Equal((WebSocketCloseStatus.NormalClosure, "stream stopped"), await client.ClosedAsync());
    }

    [Fact]
    public async Task A_provider_close_is_answered_with_a_normal_close_and_ends_the_sinks()
    {
        var (client, callId, streamId) = await StartAsync(TelephonyProvider.Twilio, new SinkBehaviour());
        await client.SendAsync(Media(TelephonyProvider.Twilio, streamId, 1));

        await client.CloseAsync();

        Assert.Equal(WebSocketState.Closed, client.State);
        var sink = (await fixture.Sinks.WaitForAsync(callId)).Single();
        await sink.Disposed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("client_closed", sink.StopReason);
        await client.DisposeAsync();
    }

    [Fact]
    public async Task Media_before_start_closes_the_stream_with_1008()
    {
        await using var client = await ConnectAsync(TelephonyProvider.Twilio);
        await client.SendAsync(Connected(TelephonyProvider.Twilio));
        await client.SendAsync(Media(TelephonyProvider.Twilio, "MZ1", 1));

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "media before start"), await client.ClosedAsync());
    }

    [Fact]
    public async Task A_second_start_closes_the_stream_with_1008()
    {
        var (client, callId, streamId) = await StartAsync(TelephonyProvider.Twilio);
        await using var owned = client;
        await client.SendAsync(TwilioStart(callId, streamId, MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, callId)));

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "second start on one stream"), await client.ClosedAsync());
    }

    [Theory]
    [InlineData("!!!!")]
    [InlineData("AAA")]
    [InlineData("AAAA=")]
    public async Task A_payload_that_is_not_base64_closes_the_stream_with_1007(string payload)
    {
        var (client, _, streamId) = await StartAsync(TelephonyProvider.Twilio);
        await using var owned = client;
        await client.SendAsync($$"""{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"{{payload}}"},"streamSid":"{{streamId}}"}""");

        Assert.Equal((WebSocketCloseStatus.InvalidPayloadData, "media payload is not valid base64"), await client.ClosedAsync());
    }

    [Fact]
    public async Task A_telnyx_start_with_an_encoding_we_cannot_decode_closes_the_stream_with_1008()
    {
        await using var client = await ConnectAsync(TelephonyProvider.Telnyx);
        var callId = NewCallControlId();
        await client.SendAsync(TelnyxStart(callId, "s1", encoding: "OPUS", sampleRate: 48000, token: MediaBridgeFactory.TokenFor(TelephonyProvider.Telnyx, callId)));

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "unsupported media encoding"), await client.ClosedAsync());
    }

    [Fact]
    public async Task Dtmf_and_marks_from_the_provider_reach_the_sinks()
    {
        var (client, callId, streamId) = await StartAsync(TelephonyProvider.Twilio, new SinkBehaviour());
        await using var owned = client;
        await client.SendAsync(TwilioDtmf(streamId, "7"));
        await client.SendAsync(TwilioMark(streamId, "greeting-done"));
        await client.SendAsync(TwilioStop(callId, streamId));
        await client.ClosedAsync();

        var sink = (await fixture.Sinks.WaitForAsync(callId)).Single();
        await sink.Disposed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(["7"], sink.Dtmf);
        Assert.Equal(["greeting-done"], sink.Marks);
    }

    [Fact]
    public async Task Unknown_events_are_counted_by_sanitized_name_and_ignored()
    {
        var unknown = new List<(string? Event, string? Provider)>();
        var messages = new List<(string? Event, string? Provider)>();
        using var listener = Listen(fixture, (name, tags) =>
        {
            if (name == "telephony_media_unknown_events")
            {
                lock (unknown) unknown.Add((Tag(tags, "event"), Tag(tags, "provider")));
            }
            else if (name == "telephony_media_messages")
            {
                lock (messages) messages.Add((Tag(tags, "event"), Tag(tags, "provider")));
            }
        });

        var (client, callId, streamId) = await StartAsync(TelephonyProvider.Telnyx);
        await using var owned = client;
        await client.SendAsync($$"""{"event":"Vendor-Thing.v2","stream_id":"{{streamId}}"}""");
        await client.SendAsync(Media(TelephonyProvider.Telnyx, streamId, 1));
        await client.SendAsync(Stop(TelephonyProvider.Telnyx, callId, streamId));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, (await client.ClosedAsync()).Status);

        lock (unknown)
        {
            Assert.Contains(unknown, m => m is { Event: "vendor_thing_v2", Provider: "telnyx" } or { Event: "other", Provider: "telnyx" });
            Assert.DoesNotContain(unknown, m => m.Event == "Vendor-Thing.v2");
        }

        lock (messages)
        {
            Assert.Contains(messages, m => m is { Event: "unknown", Provider: "telnyx" });
            Assert.Contains(messages, m => m is { Event: "media", Provider: "telnyx" });
            Assert.Contains(messages, m => m is { Event: "stop", Provider: "telnyx" });
        }
    }

    [Fact]
    public async Task The_number_of_unknown_event_labels_is_capped()
    {
        var labels = new HashSet<string?>();
        using var listener = Listen(fixture, (name, tags) =>
        {
            if (name == "telephony_media_unknown_events")
            {
                lock (labels) labels.Add(Tag(tags, "event"));
            }
        });

        await using var client = await ConnectAsync(TelephonyProvider.Twilio);
        for (var i = 0; i < 40; i++)
        {
            await client.SendAsync($$"""{"event":"flood{{i}}"}""");
        }

        await client.SendAsync(TwilioStop("CA1", "MZ1"));
        await client.ClosedAsync();

        lock (labels)
        {
            Assert.Contains("other", labels);
            Assert.True(labels.Count <= 21, $"{labels.Count} labels");
        }
    }

    internal static MeterListener Listen(MediaBridgeFixture fixture, Action<string, ReadOnlySpan<KeyValuePair<string, object?>>> measured)
    {
        var meterFactory = fixture.Factory.Services.GetRequiredService<IMeterFactory>();
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meterFactory && instrument.Meter.Name == "VoiceKraliki.MediaBridge")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => measured(instrument.Name, tags));
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => measured(instrument.Name, tags));
        listener.Start();
        return listener;
    }

    internal static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == key)
            {
                return tag.Value as string;
            }
        }

        return null;
    }
}
