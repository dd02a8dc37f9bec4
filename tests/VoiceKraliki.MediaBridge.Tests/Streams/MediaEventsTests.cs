using System.Net.WebSockets;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Tests.Support;
using static VoiceKraliki.MediaBridge.Tests.Support.MediaMessages;

namespace VoiceKraliki.MediaBridge.Tests.Streams;

/// <summary>The media events on the real RabbitMQ: started, quality every interval and at the end, ended.</summary>
[Collection(MediaBridgeInfrastructureCollection.Name)]
public class MediaEventsTests(MediaBridgeInfrastructure infrastructure)
{
    private static readonly byte[] Speech = Enumerable.Range(0, 160).Select(i => (byte)(i % 2 == 0 ? 0x10 : 0x90)).ToArray();

    [Fact]
    public async Task A_stream_publishes_started_then_periodic_and_final_quality_then_ended()
    {
        var callSid = NewCallSid();
        var streamSid = "MZ" + Guid.NewGuid().ToString("N");
        await using var client = await StreamClient.ConnectAsync(infrastructure.Bridge, TelephonyProvider.Twilio);
        await client.SendAsync(Connected(TelephonyProvider.Twilio));
        await client.SendAsync(TwilioStart(callSid, streamSid, MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, callSid, sessionId: "session-7")));

        // 100 frames, frames 10 and 60 never sent, 30 and 31 swapped; spread over about 1.5 s so a periodic report falls inside.
        var order = Enumerable.Range(1, 100).Where(c => c is not 10 and not 60).ToList();
        (order[28], order[29]) = (order[29], order[28]);
        var sent = 0;
        foreach (var chunk in order)
        {
            await client.SendAsync(TwilioMedia(streamSid, chunk + 1, chunk, 20L * (chunk - 1), Speech));
            if (++sent % 10 == 0)
            {
                await Task.Delay(150);
            }
        }

        await client.SendAsync(TwilioStop(callSid, streamSid));
        Assert.Equal(WebSocketCloseStatus.NormalClosure, (await client.ClosedAsync()).Status);

        var events = await infrastructure.Published.WaitForAsync(callSid, e => e.OfType<MediaStreamEnded>().Any(), TimeSpan.FromSeconds(30));

        var started = Assert.Single(events.OfType<MediaStreamStarted>());
        Assert.Equal((TelephonyProvider.Twilio, streamSid, "audio/x-mulaw", 8000, 1), (started.Provider, started.StreamId, started.Encoding, started.SampleRate, started.Channels));
        Assert.Equal((callSid, "session-7"), (started.ProviderCallId, started.SessionId));
        Assert.Equal(["inbound"], started.Tracks);

        var reports = events.OfType<MediaQualityReported>().OrderBy(r => r.OccurredAt).ToList();
        Assert.True(reports.Count >= 2, $"{reports.Count} reports");
        var final = Assert.Single(reports, r => r.Final);
        Assert.Same(final, reports[^1]);

        // The final report is the whole stream; the periodic ones are their intervals and add up to it.
        Assert.Equal((100L, 98L, 2L, 1L, 0L), (final.FramesExpected, final.FramesReceived, final.LostFrames, final.OutOfOrderFrames, final.LateFrames));
        Assert.Equal(0.02, final.PacketLossRatio, 10);
        var periodic = reports.Where(r => !r.Final).ToList();
        Assert.True(periodic.Sum(r => r.FramesExpected) <= 100);
        Assert.True(final.Interval >= periodic.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.Interval) - TimeSpan.FromMilliseconds(1));
        Assert.All(reports, r => Assert.Equal((callSid, callSid, streamSid), (r.CorrelationId, r.ProviderCallId, r.StreamId)));
        Assert.All(reports, r => Assert.InRange(r.EstimatedMos, 1, 4.5));
        Assert.All(reports, r => Assert.True(r.Interval > TimeSpan.Zero));

        var ended = Assert.Single(events.OfType<MediaStreamEnded>());
        Assert.Equal(("completed", 98L, 0L), (ended.Reason, ended.FramesReceived, ended.FramesSent));
        Assert.True(ended.Duration > TimeSpan.FromSeconds(1));
        Assert.True(ended.OccurredAt >= final.OccurredAt);
    }

    [Fact]
    public async Task Frames_a_slow_sink_dropped_are_reported()
    {
        var callSid = NewCallSid();
        var streamSid = "MZ" + Guid.NewGuid().ToString("N");
        infrastructure.Sinks.Configure(callSid, new SinkBehaviour(AudioDelay: TimeSpan.FromMilliseconds(200)));
        await using var client = await StreamClient.ConnectAsync(infrastructure.Bridge, TelephonyProvider.Twilio);
        await client.SendAsync(TwilioStart(callSid, streamSid, MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, callSid)));
        for (var chunk = 1; chunk <= 200; chunk++)
        {
            await client.SendAsync(TwilioMedia(streamSid, chunk + 1, chunk, 20L * (chunk - 1), Speech));
        }

        await client.SendAsync(TwilioStop(callSid, streamSid));
        await client.ClosedAsync();

        var events = await infrastructure.Published.WaitForAsync(callSid, e => e.OfType<MediaStreamEnded>().Any(), TimeSpan.FromSeconds(30));
        var dropped = events.OfType<MediaQualityReported>().Single(r => r.Final).DroppedFrames;
        Assert.InRange(dropped, 100, 150);
    }

    [Fact]
    public async Task A_refused_stream_publishes_nothing()
    {
        var callSid = NewCallSid();
        await using var client = await StreamClient.ConnectAsync(infrastructure.Bridge, TelephonyProvider.Twilio);
        await client.SendAsync(TwilioStart(callSid, "MZ1", token: null));
        Assert.Equal(WebSocketCloseStatus.PolicyViolation, (await client.ClosedAsync()).Status);

        await Task.Delay(1500);
        Assert.Empty(infrastructure.Published.ForCall(callSid));
    }
}
