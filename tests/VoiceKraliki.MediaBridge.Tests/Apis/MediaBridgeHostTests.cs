using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Tests.Support;
using static VoiceKraliki.MediaBridge.Tests.Support.MediaMessages;

namespace VoiceKraliki.MediaBridge.Tests.Apis;

public class MediaBridgeHostTests(MediaBridgeFixture fixture) : IClassFixture<MediaBridgeFixture>
{
    [Fact]
    public async Task Without_a_broker_alive_is_200_and_health_is_503_naming_the_broker_check()
    {
        using var client = fixture.Factory.CreateSocketClient();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        using var alive = await client.GetAsync("/alive", cts.Token);
        using var health = await client.GetAsync("/health", cts.Token);

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        using var json = JsonDocument.Parse(await health.Content.ReadAsStringAsync(cts.Token));
        Assert.Contains(json.RootElement.GetProperty("checks").EnumerateArray(), c =>
            c.GetProperty("name").GetString() == "messaging-broker" && c.GetProperty("status").GetString() == "Unhealthy");
    }

    [Fact]
    public async Task Metrics_answers_200_in_prometheus_text_format()
    {
        using var client = fixture.Factory.CreateSocketClient();
        using var response = await client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
    }

    [Fact]
    public async Task After_a_stream_the_audio_metrics_are_exported_under_their_documented_names()
    {
        var callSid = NewCallSid();
        var streamSid = "MZ" + Guid.NewGuid().ToString("N");
        await using (var stream = await StreamClient.ConnectAsync(fixture.Factory, TelephonyProvider.Twilio))
        {
            await stream.SendAsync(TwilioStart(callSid, streamSid, MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, callSid)));
            for (var chunk = 1; chunk <= 5; chunk++)
            {
                await stream.SendAsync(TwilioMedia(streamSid, chunk + 1, chunk, 20L * (chunk - 1), new byte[160]));
            }

            await stream.SendAsync(TwilioStop(callSid, streamSid));
            Assert.Equal(WebSocketCloseStatus.NormalClosure, (await stream.ClosedAsync()).Status);
        }

        using var client = fixture.Factory.CreateSocketClient();
        string text;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        do
        {
            await Task.Delay(100);
            text = await client.GetStringAsync("/metrics");
        }
        while (!text.Contains("telephony_audio_packet_loss_ratio_bucket", StringComparison.Ordinal) && DateTime.UtcNow < deadline);

        string[] families =
        [
            "# TYPE telephony_audio_latency_seconds histogram",
            "# TYPE telephony_audio_jitter_seconds histogram",
            "# TYPE telephony_audio_packet_loss_ratio histogram",
            "# TYPE telephony_audio_frames_received_total counter",
            "# TYPE telephony_media_streams_active gauge",
            "# TYPE telephony_media_streams_opened_total counter",
            "# TYPE telephony_media_streams_closed_total counter",
            "# TYPE telephony_media_messages_total counter",
        ];
        Assert.All(families, family => Assert.Contains(family, text));
        Assert.Matches("telephony_audio_latency_seconds_bucket\\{[^}]*provider=\"twilio\"", text);
        Assert.Matches("telephony_media_streams_closed_total\\{[^}]*outcome=\"completed\"[^}]*\\} [1-9]", text);
    }
}

/// <summary>A stream that never says start is closed with 1008 after MediaStreams:StartTimeout.</summary>
public class StartTimeoutTests
{
    [Fact]
    public async Task A_stream_that_never_starts_is_closed_with_1008_after_the_start_timeout()
    {
        await using var factory = new MediaBridgeFactory(new Dictionary<string, string?> { ["MediaStreams:StartTimeout"] = "00:00:01" });
        await using var client = await StreamClient.ConnectAsync(factory, TelephonyProvider.Twilio);
        await client.SendAsync(Connected(TelephonyProvider.Twilio));

        var (status, description) = await client.ClosedAsync(TimeSpan.FromSeconds(15));

        Assert.Equal(WebSocketCloseStatus.PolicyViolation, status);
        Assert.Equal("no start within 1 s", description);
    }
}

/// <summary>A bad setting stops the service at start with a message naming the key.</summary>
public class MediaBridgeStartupTests
{
    private static string StartFailure(Dictionary<string, string?> overrides)
    {
        using var factory = new MediaBridgeFactory(overrides);
        var exception = Assert.ThrowsAny<Exception>(() => factory.Address);
        var messages = new List<string>();
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is OptionsValidationException validation)
            {
                messages.AddRange(validation.Failures);
            }
        }

        return string.Join(" | ", messages);
    }

    [Theory]
    [InlineData("100")]
    [InlineData("2000000")]
    public void An_out_of_range_MaxMessageBytes_stops_the_service_naming_the_key(string value)
    {
        Assert.Contains("MediaStreams:MaxMessageBytes", StartFailure(new() { ["MediaStreams:MaxMessageBytes"] = value }));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("c2hvcnQ=")]
    [InlineData("not base64 at all")]
    public void A_missing_short_or_malformed_token_key_stops_the_service_naming_the_key(string? value)
    {
        Assert.Contains("MediaStreams:TokenSigningKey", StartFailure(new() { ["MediaStreams:TokenSigningKey"] = value }));
    }

    [Theory]
    [InlineData("MediaStreams:JitterBufferFrames", "51")]
    [InlineData("MediaStreams:JitterBufferFrames", "-1")]
    [InlineData("MediaStreams:SinkQueueFrames", "1")]
    [InlineData("MediaStreams:ReportInterval", "00:00:00")]
    [InlineData("MediaStreams:ReportInterval", "02:00:00")]
    [InlineData("MediaStreams:KeepAliveInterval", "00:00:00.500")]
    [InlineData("MediaStreams:KeepAliveTimeout", "01:00:00")]
    [InlineData("MediaStreams:StartTimeout", "00:00:00")]
    [InlineData("MediaStreams:SinkStopTimeout", "00:10:00")]
    [InlineData("MediaStreams:MaxQueuedOutput", "00:00:00")]
    [InlineData("MediaStreams:OutputPlayoutDelay", "00:00:02")]
    [InlineData("MediaStreams:OutputPlayoutDelay", "-00:00:01")]
    [InlineData("MediaStreams:PublishTimeout", "00:00:00")]
    [InlineData("MediaStreams:SilenceThresholdDbfs", "3")]
    public void An_out_of_range_stream_setting_stops_the_service_naming_the_key(string key, string value)
    {
        Assert.Contains(key, StartFailure(new() { [key] = value }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("http://127.0.0.1:5672")]
    public void A_missing_or_non_amqp_broker_address_stops_the_service_naming_the_key(string value)
    {
        Assert.Contains("ConnectionStrings:messaging", StartFailure(new() { ["ConnectionStrings:messaging"] = value }));
    }
}
