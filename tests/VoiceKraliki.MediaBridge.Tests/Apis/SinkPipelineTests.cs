using System.Buffers.Binary;
using System.Diagnostics;
using System.Net.WebSockets;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Tests.Support;
using VoiceKraliki.Telephony.Audio;
using static VoiceKraliki.MediaBridge.Tests.Support.MediaMessages;

namespace VoiceKraliki.MediaBridge.Tests.Apis;

/// <summary>Audio through the real service: decoding, the sinks' queues, and the way back to the provider.</summary>
public class SinkPipelineTests(MediaBridgeFixture fixture) : IClassFixture<MediaBridgeFixture>
{
    private static readonly byte[] MuLawSilence = Enumerable.Repeat((byte)0xFF, 160).ToArray();

    private async Task<(StreamClient Client, string CallId, string StreamId)> StartTwilioAsync(params SinkBehaviour[] sinks)
    {
        var client = await StreamClient.ConnectAsync(fixture.Factory, TelephonyProvider.Twilio);
        var callSid = NewCallSid();
        var streamSid = "MZ" + Guid.NewGuid().ToString("N");
        fixture.Sinks.Configure(callSid, sinks);
        await client.SendAsync(Connected(TelephonyProvider.Twilio));
        await client.SendAsync(TwilioStart(callSid, streamSid, MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, callSid)));
        return (client, callSid, streamSid);
    }

    private async Task<(StreamClient Client, string CallId, string StreamId)> StartTelnyxAsync(string encoding, int rate, params SinkBehaviour[] sinks)
    {
        var client = await StreamClient.ConnectAsync(fixture.Factory, TelephonyProvider.Telnyx);
        var callId = NewCallControlId();
        var streamId = Guid.NewGuid().ToString();
        fixture.Sinks.Configure(callId, sinks);
        await client.SendAsync(TelnyxStart(callId, streamId, encoding, rate, MediaBridgeFactory.TokenFor(TelephonyProvider.Telnyx, callId)));
        return (client, callId, streamId);
    }

    [Fact]
    public async Task A_telnyx_PCMA_stream_is_decoded_as_A_law_not_mu_law()
    {
        var (client, callId, streamId) = await StartTelnyxAsync("PCMA", 8000, new SinkBehaviour());
        await using var owned = client;

        // ITU-T G.711 A-law: 0xAA and 0x2A are the largest codes (±32256), 0xD5 and 0x55 the smallest (±8).
        byte[] codes = [0xAA, 0x2A, 0xD5, 0x55];
        var payload = Enumerable.Range(0, 160).Select(i => codes[i % 4]).ToArray();
        await client.SendAsync(TelnyxMedia(streamId, 2, 1, 0, payload));
        await client.SendAsync(TelnyxStop(callId, streamId));
        await client.ClosedAsync();

        var sink = (await fixture.Sinks.WaitForAsync(callId)).Single();
        await sink.Disposed.WaitAsync(TimeSpan.FromSeconds(10));
        var pcm = Assert.Single(sink.Audio).Pcm;
        Assert.Equal(160, pcm.Length);
        Assert.Equal(new short[] { 32256, -32256, 8, -8 }, pcm[..4]);
        Assert.Equal(WireEncoding.ALaw, sink.Info.Encoding);
    }

    [Fact]
    public async Task A_telnyx_L16_stream_is_read_in_network_byte_order_at_its_own_rate()
    {
        var (client, callId, streamId) = await StartTelnyxAsync("L16", 16000, new SinkBehaviour());
        await using var owned = client;
        var samples = Enumerable.Range(0, 320).Select(i => (short)((i * 97) - 15000)).ToArray();
        var payload = new byte[640];
        for (var i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16BigEndian(payload.AsSpan(2 * i), samples[i]);
        }

        await client.SendAsync(TelnyxMedia(streamId, 2, 1, 0, payload));
        await client.SendAsync(TelnyxStop(callId, streamId));
        await client.ClosedAsync();

        var sink = (await fixture.Sinks.WaitForAsync(callId)).Single();
        await sink.Disposed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(16000, sink.Info.SampleRate);
        Assert.Equal(samples, Assert.Single(sink.Audio).Pcm);
    }

    [Fact]
    public async Task A_slow_sink_does_not_slow_the_stream_its_dropped_frames_are_counted_and_other_sinks_get_everything()
    {
        var slowName = "slow-" + Guid.NewGuid().ToString("N")[..8];
        long dropped = 0;
        using var listener = MediaStreamApiTests.Listen(fixture, (name, tags) =>
        {
            if (name == "telephony_media_sink_dropped_frames" && MediaStreamApiTests.Tag(tags, "sink") == slowName)
            {
                Interlocked.Increment(ref dropped);
            }
        });
        var (client, callId, streamId) = await StartTwilioAsync(
            new SinkBehaviour(AudioDelay: TimeSpan.FromMilliseconds(100), Name: slowName), new SinkBehaviour(Name: "fast"));
        await using var owned = client;
        var sinks = await fixture.Sinks.WaitForAsync(callId, 2);

        // Five times real time: a sink that takes microseconds keeps up, one that takes 100 ms a frame cannot.
        var watch = Stopwatch.StartNew();
        for (var chunk = 1; chunk <= 300; chunk++)
        {
            await client.SendAsync(TwilioMedia(streamId, chunk + 1, chunk, 20L * (chunk - 1), MuLawSilence));
            if (chunk % 10 == 0)
            {
                await Task.Delay(40);
            }
        }

        await client.SendAsync(TwilioStop(callId, streamId));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, (await client.ClosedAsync()).Status);
        watch.Stop();

        // Waiting for the slow sink would take 300 × 100 ms = 30 s.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        var fast = sinks.Single(s => s.Name == "fast");
        await fast.Disposed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(300, fast.Audio.Count);
        var slow = sinks.Single(s => s.Name == slowName);
        await slow.Disposed.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(slow.Audio.Count < 150, $"the slow sink took {slow.Audio.Count} frames");
        Assert.True(Interlocked.Read(ref dropped) >= 300 - 50 - slow.Audio.Count - 10, $"{dropped} dropped, {slow.Audio.Count} taken");
    }

    [Fact]
    public async Task A_sink_that_throws_is_removed_and_the_stream_and_other_sinks_go_on()
    {
        var failures = 0;
        using var listener = MediaStreamApiTests.Listen(fixture, (name, tags) =>
        {
            if (name == "telephony_media_sink_failures" && MediaStreamApiTests.Tag(tags, "sink") == "breaks")
            {
                Interlocked.Increment(ref failures);
            }
        });
        var (client, callId, streamId) = await StartTwilioAsync(new SinkBehaviour(ThrowOnFrame: 5, Name: "breaks"), new SinkBehaviour(Name: "steady"));
        await using var owned = client;
        var sinks = await fixture.Sinks.WaitForAsync(callId, 2);

        for (var chunk = 1; chunk <= 20; chunk++)
        {
            await client.SendAsync(TwilioMedia(streamId, chunk + 1, chunk, 20L * (chunk - 1), MuLawSilence));
        }

        var breaks = sinks.Single(s => s.Name == "breaks");
        await breaks.Disposed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(client.IsClosed);
        await client.SendAsync(TwilioStop(callId, streamId));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, (await client.ClosedAsync()).Status);

        var steady = sinks.Single(s => s.Name == "steady");
        await steady.Disposed.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(20, steady.Audio.Count);
        Assert.Equal(4, breaks.Audio.Count);
        Assert.Null(breaks.StopReason);
        Assert.Equal(1, failures);
    }

    [Fact]
    public async Task Audio_a_sink_sends_back_is_resampled_encoded_and_paced_in_20_ms_frames_then_its_mark()
    {
        // One second of a 440 Hz tone at 16 kHz: 50 frames of 160 μ-law bytes at 8 kHz on Twilio's wire.
        var tone = Enumerable.Range(0, 16000).Select(i => (short)(8000 * Math.Sin(2 * Math.PI * 440 * i / 16000))).ToArray();
        var (client, _, streamSid) = await StartTwilioAsync(new SinkBehaviour(OnStarted: async (_, output) =>
        {
            await output.SendAudioAsync(tone, 16000, CancellationToken.None);
            await output.SendMarkAsync("spoken", CancellationToken.None);
        }));
        await using var owned = client;

        await client.WaitForMessagesAsync("mark", 1);
        var media = client.Messages("media");
        Assert.Equal(50, media.Count);
        foreach (var (_, message) in media)
        {
            Assert.Equal(streamSid, message.GetProperty("streamSid").GetString());
            Assert.Equal(160, Convert.FromBase64String(message.GetProperty("media").GetProperty("payload").GetString()!).Length);
        }

        var mark = Assert.Single(client.Messages("mark"));
        Assert.Equal("spoken", mark.Message.GetProperty("mark").GetProperty("name").GetString());
        Assert.True(mark.At >= media[^1].At);

        // Paced, not sent at once: 49 gaps of 20 ms (generous bounds: this is a shared test machine).
        var span = Stopwatch.GetElapsedTime(media[0].At, media[^1].At);
        Assert.InRange(span, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task Clear_drops_the_queued_audio_sends_clear_and_hands_back_the_marks_it_dropped()
    {
        var threeSeconds = new short[3 * 8000];
        Array.Fill(threeSeconds, (short)2000);
        var (client, callId, streamSid) = await StartTwilioAsync(new SinkBehaviour(OnStarted: async (_, output) =>
        {
            await output.SendAudioAsync(threeSeconds, 8000, CancellationToken.None);
            await output.SendMarkAsync("after-speech", CancellationToken.None);
        }));
        await using var owned = client;
        var sink = (await fixture.Sinks.WaitForAsync(callId)).Single();
        await client.WaitForMessagesAsync("media", 5);

        await sink.Output.ClearAsync(CancellationToken.None);

        var clear = (await client.WaitForMessagesAsync("clear", 1)).Single().Message;
        Assert.Equal(streamSid, clear.GetProperty("streamSid").GetString());
        await Task.Delay(300);
        var afterClear = client.Messages("media").Count;
        await Task.Delay(300);
        Assert.Equal(afterClear, client.Messages("media").Count);
        Assert.True(afterClear < 100, $"{afterClear} frames were sent");
        Assert.Empty(client.Messages("mark"));
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (sink.Marks.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(["after-speech"], sink.Marks);
    }

    [Fact]
    public async Task On_a_telnyx_PCMA_stream_audio_goes_back_as_A_law_without_a_stream_sid_and_clear_is_bare()
    {
        var tone = new short[320];
        Array.Fill(tone, (short)1000);
        var (client, callId, _) = await StartTelnyxAsync("PCMA", 8000, new SinkBehaviour(OnStarted: async (_, output) =>
        {
            await output.SendAudioAsync(tone, 8000, CancellationToken.None);
            await output.SendMarkAsync("m1", CancellationToken.None);
        }));
        await using var owned = client;
        await client.WaitForMessagesAsync("mark", 1);
        var sink = (await fixture.Sinks.WaitForAsync(callId)).Single();

        await sink.Output.ClearAsync(CancellationToken.None);
        var clear = (await client.WaitForMessagesAsync("clear", 1)).Single().Message;

        var media = client.Messages("media");
        Assert.Equal(2, media.Count);
        foreach (var (_, message) in media)
        {
            Assert.False(message.TryGetProperty("streamSid", out _));
            var payload = Convert.FromBase64String(message.GetProperty("media").GetProperty("payload").GetString()!);
            Assert.Equal(160, payload.Length);
            Assert.All(payload, b => Assert.Equal(G711.EncodeALaw(1000), b));
        }

        Assert.Equal("""{"event":"clear"}""", clear.GetRawText());
        Assert.Equal("""{"event":"mark","mark":{"name":"m1"}}""", client.Messages("mark").Single().Message.GetRawText());
    }
}
