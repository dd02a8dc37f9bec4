using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Sinks.Recording;
using VoiceKraliki.MediaBridge.Tests.Sinks.Agent;
using VoiceKraliki.MediaBridge.Tests.Support;
using VoiceKraliki.Telephony.Audio;
using static VoiceKraliki.MediaBridge.Tests.Support.MediaMessages;

namespace VoiceKraliki.MediaBridge.Tests.Sinks;

/// <summary>The recorder and the agent bridge inside the real service, fed by a Twilio media stream.</summary>
[Collection(AgentSinkCollection.Name)]
public sealed class SinksInTheServiceTests : IAsyncLifetime
{
    private readonly TempFolder _folder = new();
    private AgentServer _agent = null!;
    private MediaBridgeFactory _service = null!;

    public async Task InitializeAsync()
    {
        _agent = await AgentServer.StartAsync();
        _service = new MediaBridgeFactory(new Dictionary<string, string?>
        {
            ["Recording:Policy"] = "AllowWhenRequested",
            ["Recording:Directory"] = _folder.Recordings,
            ["Agent:AllowedHosts:0"] = "127.0.0.1",
        });
        _ = _service.Address;
    }

    public async Task DisposeAsync()
    {
        await _service.DisposeAsync();
        await _agent.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task A_call_that_asks_to_be_recorded_leaves_a_stereo_wav_of_both_tracks_and_a_sidecar_with_its_numbers()
    {
        var callSid = NewCallSid();
        var streamSid = "MZ" + Guid.NewGuid().ToString("N");
        await using var twilio = await StreamClient.ConnectAsync(_service, TelephonyProvider.Twilio);
        await twilio.SendAsync(Connected(TelephonyProvider.Twilio));
        await twilio.SendAsync(TwilioStart(callSid, streamSid, MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, callSid), ["inbound", "outbound"],
            new Dictionary<string, string> { ["record"] = "true", ["from"] = "+14155550100", ["to"] = "+442071838750" }));

        // In real time, as Twilio sends: a burst could overflow the recorder's queue in the pipeline (it keeps 1 s).
        var inbound = new List<short>();
        var outbound = new List<short>();
        var sequence = 2;
        for (var i = 0; i < 50; i++)
        {
            await Task.Delay(20);
            var caller = Tone(440, i, 8000);
            var played = Tone(700, i, 4000);
            await twilio.SendAsync(TwilioMedia(streamSid, sequence++, i + 1, 20 * i, caller));
            await twilio.SendAsync(TwilioMedia(streamSid, sequence++, i + 1, 20 * i, played, track: "outbound"));
            inbound.AddRange(Decode(caller));
            outbound.AddRange(Decode(played));
        }

        await twilio.SendAsync(TwilioStop(callSid, streamSid));
        await twilio.ClosedAsync();

        var sidecarPath = Path.Combine(_folder.Recordings, $"twilio_{callSid}_{streamSid}.json");
        await Streams.Eventually(() => File.Exists(sidecarPath) && ReadSidecar(sidecarPath).EndedAt is not null, "the recording is finished");
        var sidecar = ReadSidecar(sidecarPath);
        Assert.Equal(callSid, sidecar.CallId);
        Assert.Equal("+14155550100", sidecar.From);
        Assert.Equal("+442071838750", sidecar.To);
        Assert.Equal("stream-requested", sidecar.PolicyBasis);
        Assert.Equal(8000, sidecar.Frames);

        var (rate, channels, samples) = WavFile.Read(Path.Combine(_folder.Recordings, sidecar.AudioFile));
        Assert.Equal((8000, 2), (rate, channels));
        Assert.Equal(inbound, samples.Where((_, i) => i % 2 == 0));
        Assert.Equal(outbound, samples.Where((_, i) => i % 2 == 1));
    }

    [Fact]
    public async Task A_call_that_does_not_ask_is_not_recorded()
    {
        var callSid = NewCallSid();
        var streamSid = "MZ" + Guid.NewGuid().ToString("N");
        await using var twilio = await StreamClient.ConnectAsync(_service, TelephonyProvider.Twilio);
        await twilio.SendAsync(TwilioStart(callSid, streamSid, MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, callSid)));
        await twilio.SendAsync(TwilioMedia(streamSid, 2, 1, 0, Tone(440, 0, 8000)));
        await twilio.SendAsync(TwilioStop(callSid, streamSid));
        await twilio.ClosedAsync();

        Assert.Empty(_folder.Files());
    }

    [Fact]
    public async Task A_caller_and_an_agent_hear_each_other_with_marks_dtmf_and_barge_in_on_the_way()
    {
        var callSid = NewCallSid();
        var streamSid = "MZ" + Guid.NewGuid().ToString("N");
        await using var twilio = await StreamClient.ConnectAsync(_service, TelephonyProvider.Twilio);
        await twilio.SendAsync(Connected(TelephonyProvider.Twilio));
        await twilio.SendAsync(TwilioStart(callSid, streamSid, MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, callSid),
            parameters: new Dictionary<string, string> { ["agentUrl"] = _agent.Url.ToString() }));

        var start = (await _agent.NextAsync()).Json;
        Assert.Equal(callSid, start.GetProperty("callId").GetString());
        Assert.Equal(streamSid, start.GetProperty("streamId").GetString());
        Assert.False(start.GetProperty("parameters").TryGetProperty("token", out _));
        Assert.False(start.GetProperty("parameters").TryGetProperty("agentUrl", out _));

        // The caller speaks for half a second.
        for (var i = 0; i < 25; i++)
        {
            await twilio.SendAsync(TwilioMedia(streamSid, i + 2, i + 1, 20 * i, Tone(440, i, 8000)));
        }

        // The agent answers with 200 ms at 16 kHz and a mark: 10 frames reach Twilio, then the mark.
        var answer = Enumerable.Range(0, 3200).Select(n => (short)(8000 * Math.Sin(2 * Math.PI * 300 * n / 16000.0))).ToArray();
        await _agent.SendBinaryAsync(MemoryMarshal.AsBytes(answer.AsSpan()).ToArray());
        await _agent.SendTextAsync("""{"event":"mark","name":"said-hello"}""");
        await twilio.WaitForMessagesAsync("mark", 1);
        var toTwilio = twilio.Received.Select(m => m.Message.GetProperty("event").GetString()).ToList();
        Assert.Equal([.. Enumerable.Repeat("media", 10), "mark"], toTwilio);
        var played = twilio.Messages("media").SelectMany(m => Decode(Convert.FromBase64String(m.Message.GetProperty("media").GetProperty("payload").GetString()!))).ToArray();
        Assert.InRange(Rms(played[800..]), 5000, 6300);
        Assert.Equal("said-hello", twilio.Messages("mark").Single().Message.GetProperty("mark").GetProperty("name").GetString());

        // Twilio says the mark was played; the caller presses 7; the agent barges in.
        await twilio.SendAsync(TwilioMark(streamSid, "said-hello"));
        await twilio.SendAsync(TwilioDtmf(streamSid, "7"));
        await _agent.SendTextAsync("""{"event":"clear"}""");
        await twilio.WaitForMessagesAsync("clear", 1);
        await twilio.SendAsync(TwilioStop(callSid, streamSid));
        await twilio.ClosedAsync();

        var texts = new List<string>();
        var heard = 0;
        for (var message = await _agent.NextAsync(); !ReferenceEquals(message, AgentMessage.Closed); message = await _agent.NextAsync())
        {
            if (message.Type == WebSocketMessageType.Binary)
            {
                heard += message.Bytes.Length / 2;
            }
            else
            {
                texts.Add(message.Text);
            }
        }

        Assert.Equal(
            ["""{"event":"mark","name":"said-hello"}""", """{"event":"dtmf","digit":"7"}""", """{"event":"stop"}"""],
            texts);
        Assert.Equal(25 * 320, heard);
    }

    private static byte[] Tone(double hertz, int frame, double amplitude)
    {
        var pcm = Enumerable.Range(0, 160).Select(n => (short)(amplitude * Math.Sin(2 * Math.PI * hertz * ((frame * 160) + n) / 8000.0))).ToArray();
        var encoded = new byte[160];
        G711.EncodeMuLaw(pcm, encoded);
        return encoded;
    }

    private static short[] Decode(byte[] muLaw)
    {
        var pcm = new short[muLaw.Length];
        G711.DecodeMuLaw(muLaw, pcm);
        return pcm;
    }

    private static double Rms(short[] samples) => Math.Sqrt(samples.Average(s => (double)s * s));

    private static RecordingSidecar ReadSidecar(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return JsonSerializer.Deserialize<RecordingSidecar>(file, RecordingSidecar.JsonOptions)!;
    }
}
