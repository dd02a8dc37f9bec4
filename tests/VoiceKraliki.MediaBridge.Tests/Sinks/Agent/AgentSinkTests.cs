using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Sinks.Agent;
using VoiceKraliki.Telephony.Audio;
using static VoiceKraliki.MediaBridge.Tests.Sinks.Streams;

namespace VoiceKraliki.MediaBridge.Tests.Sinks.Agent;

/// <summary>
/// The agent bridge against a real WebSocket agent on loopback. Run alone: the slow-agent test fills socket buffers,
/// which would disturb other tests' timing.
/// </summary>
[Collection(AgentSinkCollection.Name)]
public sealed class AgentSinkTests : IAsyncLifetime
{
    private static readonly CancellationToken None = CancellationToken.None;
    private readonly RecordingProviderOutput _output = new();
    private AgentServer _agent = null!;

    public async Task InitializeAsync() => _agent = await AgentServer.StartAsync(echoAudio: true);

    public async Task DisposeAsync() => await _agent.DisposeAsync();

    [Fact]
    public async Task The_agent_gets_start_then_only_the_callers_audio_resampled_to_16_kHz()
    {
        var stream = Info(tracks: [MediaTrack.Inbound, MediaTrack.Outbound], parameters: new Dictionary<string, string> { ["language"] = "en-GB" });
        await using var sink = await ConnectAsync(stream);

        var start = (await _agent.NextAsync()).Json;
        Assert.Equal("start", start.GetProperty("event").GetString());
        Assert.Equal(stream.CallId, start.GetProperty("callId").GetString());
        Assert.Equal(stream.StreamId, start.GetProperty("streamId").GetString());
        Assert.Equal("session-1", start.GetProperty("sessionId").GetString());
        Assert.Equal("twilio", start.GetProperty("provider").GetString());
        Assert.Equal(16000, start.GetProperty("sampleRate").GetInt32());
        Assert.Equal("pcm_s16le", start.GetProperty("encoding").GetString());
        Assert.Equal("en-GB", start.GetProperty("parameters").GetProperty("language").GetString());

        var expected = await SendToneAsync(sink, frames: 10, alsoOutbound: true);
        await sink.OnDtmfAsync("1", None);

        var received = new List<short>();
        AgentMessage message;
        while ((message = await _agent.NextAsync()).Type == WebSocketMessageType.Binary)
        {
            received.AddRange(MemoryMarshal.Cast<byte, short>(message.Bytes));
        }

        Assert.Equal("""{"event":"dtmf","digit":"1"}""", message.Text);
        Assert.Equal(2 * 10 * 160, received.Count);
        Assert.Equal(expected, received);
    }

    [Fact]
    public async Task Audio_from_the_agent_is_played_to_the_caller_at_the_agents_rate()
    {
        await using var sink = await ConnectAsync(Info());

        var sent = await SendToneAsync(sink, frames: 25);

        await Eventually(() => _output.Audio.Length >= sent.Count, "the echoed audio reaches the provider output");
        Assert.Equal(sent, _output.Audio);
        Assert.All(_output.AudioRates, rate => Assert.Equal(16000, rate));
    }

    [Fact]
    public async Task Marks_and_clear_from_the_agent_reach_the_provider_and_anything_else_is_ignored()
    {
        await using var sink = await ConnectAsync(Info());
        await _agent.NextAsync();

        await _agent.SendTextAsync("""{"event":"mark","name":"greeting-done"}""");
        await _agent.SendTextAsync("""{"event":"clear"}""");
        await _agent.SendTextAsync("""{"event":"transcript","text":"hello"}""");
        await _agent.SendTextAsync("not json");
        await _agent.SendTextAsync("""{"event":"mark"}""");
        await _agent.SendTextAsync("""{"name":"no event"}""");
        await _agent.SendTextAsync("""{"event":"mark","name":"after-the-noise"}""");

        await Eventually(() => _output.Calls.Length >= 3, "three calls on the provider output");
        Assert.Equal(["mark:greeting-done", "clear", "mark:after-the-noise"], _output.Calls);
        Assert.Equal(1, sink.IgnoredMessages);
        Assert.Equal(3, sink.MalformedMessages);
        Assert.False(sink.IsDropped);
    }

    [Fact]
    public async Task Dtmf_and_played_marks_go_to_the_agent_and_stop_ends_the_conversation()
    {
        await using var sink = await ConnectAsync(Info());
        await _agent.NextAsync();

        await sink.OnDtmfAsync("5", None);
        await sink.OnMarkAsync("greeting-done", None);
        await sink.OnStopAsync("stop", None);

        Assert.Equal("""{"event":"dtmf","digit":"5"}""", (await _agent.NextAsync()).Text);
        Assert.Equal("""{"event":"mark","name":"greeting-done"}""", (await _agent.NextAsync()).Text);
        Assert.Equal("""{"event":"stop"}""", (await _agent.NextAsync()).Text);
        Assert.Same(AgentMessage.Closed, await _agent.NextAsync());
        Assert.False(sink.IsDropped);
    }

    [Fact]
    public async Task A_dead_agent_is_dropped_at_once_and_the_stream_never_sees_an_exception()
    {
        var watch = Stopwatch.StartNew();
        await using var sink = (AgentSink)(await Factory(o => o.Url = $"ws://127.0.0.1:{ClosedPort()}/agent", connectTimeout: TimeSpan.FromSeconds(30))
            .CreateAsync(Info(), _output, None))!;

        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(1), Ms(0), None);
        await sink.OnDtmfAsync("1", None);
        await sink.OnStopAsync("stop", None);

        Assert.True(sink.IsDropped);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task Connecting_never_holds_up_the_stream_and_an_agent_that_never_answers_is_given_up_after_the_connect_timeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var factory = Factory(o => o.Url = $"ws://127.0.0.1:{port}/agent", connectTimeout: TimeSpan.FromMilliseconds(500));

        var watch = Stopwatch.StartNew();
        await using var sink = (AgentSink)(await factory.CreateAsync(Info(), _output, None))!;
        Assert.True(watch.Elapsed < TimeSpan.FromMilliseconds(250), $"the stream's start waited {watch.Elapsed} for the agent");

        // The sink's own pump waits for the connection, then gives up on it.
        await sink.OnAudioAsync(MediaTrack.Inbound, Frame(1), Ms(0), None);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(450), TimeSpan.FromSeconds(5));
        Assert.True(sink.IsDropped);
    }

    [Fact]
    public async Task A_stream_that_stops_while_the_agent_is_still_connecting_ends_at_once()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var factory = Factory(o => o.Url = $"ws://127.0.0.1:{port}/agent", connectTimeout: TimeSpan.FromSeconds(30));
        var sink = (AgentSink)(await factory.CreateAsync(Info(), _output, None))!;

        var watch = Stopwatch.StartNew();
        await sink.OnStopAsync("stop", None);
        await sink.DisposeAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
    }

    [Fact]
    public async Task An_agent_that_goes_away_mid_stream_is_dropped_and_the_stream_carries_on()
    {
        await using var sink = await ConnectAsync(Info());
        await _agent.NextAsync();

        _agent.Abort();

        for (var i = 0; !sink.IsDropped; i++)
        {
            Assert.True(i < 500, "the bridge never noticed the agent went away");
            await sink.OnAudioAsync(MediaTrack.Inbound, Frame(i), Ms(20 * i), None);
            await Task.Delay(10);
        }

        await sink.OnDtmfAsync("1", None);
        await sink.OnStopAsync("stop", None);
    }

    [Fact]
    public async Task An_agent_that_stops_reading_is_dropped_after_the_send_timeout_without_blocking_longer()
    {
        await using var slow = await AgentServer.StartAsync(reads: false);
        var factory = Factory(o => o.Url = slow.Url.ToString(), sendTimeout: TimeSpan.FromMilliseconds(300));
        await using var sink = (AgentSink)(await factory.CreateAsync(Info(), _output, None))!;
        var second = Frame(0, length: 8000);

        for (var i = 0; !sink.IsDropped; i++)
        {
            Assert.True(i < 4000, "128 MB went to an agent that reads nothing, and it was never dropped");
            var watch = Stopwatch.StartNew();
            await sink.OnAudioAsync(MediaTrack.Inbound, second, TimeSpan.FromSeconds(i), None);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"one frame took {watch.Elapsed}");
        }

        var after = Stopwatch.StartNew();
        await sink.OnAudioAsync(MediaTrack.Inbound, second, TimeSpan.FromHours(1), None);
        await sink.OnStopAsync("stop", None);
        Assert.True(after.Elapsed < TimeSpan.FromMilliseconds(100), "a dropped agent still costs time");
    }

    [Fact]
    public async Task A_stream_may_name_its_agent_on_an_allowed_host_and_the_url_is_not_passed_on()
    {
        var factory = Factory(o => o.AllowedHosts = ["127.0.0.1"]);
        var parameters = new Dictionary<string, string> { ["agentUrl"] = _agent.Url.ToString() };

        await using var sink = (AgentSink)(await factory.CreateAsync(Info(parameters: parameters), _output, None))!;

        Assert.NotNull(sink);
        var start = (await _agent.NextAsync()).Json;
        Assert.False(start.GetProperty("parameters").TryGetProperty("agentUrl", out _));
    }

    [Theory]
    [InlineData("ws://{host}/agent", "localhost")]
    [InlineData("ws://{host}/agent", "127.0.0.1:1")]
    [InlineData("http://{host}/agent", "127.0.0.1")]
    [InlineData("ws://user:secret@{host}/agent", "127.0.0.1")]
    [InlineData("/agent", "127.0.0.1")]
    [InlineData("ws://{host}/agent", "")]
    public async Task A_stream_cannot_point_the_bridge_anywhere_else_not_even_at_the_default_agent(string requested, string allowedHost)
    {
        var factory = Factory(o =>
        {
            o.Url = _agent.Url.ToString();
            o.AllowedHosts = allowedHost.Length == 0 ? [] : [allowedHost];
        });
        var parameters = new Dictionary<string, string> { ["agentUrl"] = requested.Replace("{host}", _agent.Url.Authority, StringComparison.Ordinal) };

        Assert.Null(await factory.CreateAsync(Info(parameters: parameters), _output, None));
        Assert.Equal(0, _agent.Connections);
    }

    [Fact]
    public async Task No_agent_configured_means_no_sink()
    {
        var factory = Factory(o => o.Url = null);

        Assert.Null(await factory.CreateAsync(Info(), _output, None));
        Assert.Equal(0, _agent.Connections);
    }

    private async Task<AgentSink> ConnectAsync(MediaStreamInfo stream)
    {
        var sink = await Factory().CreateAsync(stream, _output, None);
        Assert.NotNull(sink);
        return (AgentSink)sink;
    }

    private AgentSinkFactory Factory(Action<AgentOptions>? configure = null, TimeSpan? connectTimeout = null, TimeSpan? sendTimeout = null)
    {
        var options = new AgentOptions
        {
            Url = _agent.Url.ToString(),
            ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5),
            SendTimeout = sendTimeout ?? TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        Assert.Empty(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)));
        return new AgentSinkFactory(Options.Create(options), TimeProvider.System, NullLogger<AgentSink>.Instance);
    }

    /// <summary>Sends a 440 Hz tone in 20 ms frames; returns what a resampler of our own makes of it at 16 kHz.</summary>
    private static async Task<List<short>> SendToneAsync(AgentSink sink, int frames, bool alsoOutbound = false)
    {
        var reference = new PcmResampler(8000, 16000);
        var expected = new List<short>();
        var upsampled = new short[reference.MaxOutputLength(160)];
        for (var i = 0; i < frames; i++)
        {
            var frame = Enumerable.Range(0, 160)
                .Select(n => (short)(8000 * Math.Sin(2 * Math.PI * 440 * ((i * 160) + n) / 8000.0)))
                .ToArray();
            await sink.OnAudioAsync(MediaTrack.Inbound, frame, Ms(20 * i), None);
            if (alsoOutbound)
            {
                await sink.OnAudioAsync(MediaTrack.Outbound, Frame(i), Ms(20 * i), None);
            }

            expected.AddRange(upsampled.AsSpan(0, reference.Process(frame, upsampled)));
        }

        return expected;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AgentSinkCollection
{
    public const string Name = "Agent sink (alone)";
}
