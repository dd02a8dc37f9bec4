using System.Diagnostics;
using System.Text.Json.Nodes;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.Alerting.Notifications.Channels;

namespace VoiceKraliki.Alerting.Tests.Channels;

/// <summary>Slack incoming webhooks, against a real HTTP receiver.</summary>
public class SlackChannelTests
{
    internal static Notification MixedGroup() => Samples.Group(
        Samples.Alert("twilio", value: 0.12),
        Samples.Alert("vonage", severity: "critical", value: 0.31, acknowledgement: new Acknowledgement("maria", Samples.Start.AddMinutes(2), "looking")),
        Samples.Alert("telnyx", Notification.Resolved, value: 0.04));

    [Fact]
    public async Task The_payload_has_text_and_blocks_with_status_alertname_severity_summary_labels_and_runbook()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(Samples.Slack(receiver), MixedGroup(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/services/T0001/B0001/xoxSECRETslackTOKEN0001", request.Path);
        Assert.Equal("application/json; charset=utf-8", request.Header("content-type"));
        var expected = JsonNode.Parse("""
            {
              "text": "[FIRING:2] HighCallDropRate: Call drop rate on twilio above 10%",
              "blocks": [
                { "type": "header", "text": { "type": "plain_text", "text": "🔥 [FIRING:2] HighCallDropRate", "emoji": true } },
                { "type": "section", "fields": [
                  { "type": "mrkdwn", "text": "*Status*\nfiring (2)" },
                  { "type": "mrkdwn", "text": "*Alert*\nHighCallDropRate" },
                  { "type": "mrkdwn", "text": "*Severity*\ncritical" },
                  { "type": "mrkdwn", "text": "*Receiver*\nops" } ] },
                { "type": "section", "text": { "type": "mrkdwn",
                  "text": "*Summary*\nCall drop rate on twilio above 10%\n<https://runbooks.example.test/call-drops|Runbook>" } },
                { "type": "section", "text": { "type": "mrkdwn",
                  "text": "*firing* · high · value 0.12 · since 2026-03-01T11:52:30Z\n`provider=twilio`" } },
                { "type": "section", "text": { "type": "mrkdwn",
                  "text": "*firing* · critical · value 0.31 · since 2026-03-01T11:52:30Z\nCall drop rate on vonage above 10%\n`provider=vonage`\nAcknowledged by maria at 2026-03-01T11:54:30Z: looking" } },
                { "type": "section", "text": { "type": "mrkdwn",
                  "text": "*resolved* · high · value 0.04 · since 2026-03-01T11:52:30Z · ended 2026-03-01T11:59:30Z\nCall drop rate on telnyx above 10%\n`provider=telnyx`" } },
                { "type": "context", "elements": [
                  { "type": "mrkdwn", "text": "group {alertname=\"HighCallDropRate\"} · <https://alerts.example.test/|VoiceKraliki alerting>" } ] }
              ]
            }
            """);
        Assert.True(JsonNode.DeepEquals(expected, request.Json), request.Body);
    }

    [Fact]
    public async Task Text_that_looks_like_slack_markup_is_escaped()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var harness = ChannelHarness.Create();
        var group = Samples.Group(Samples.Alert("twilio", annotations: new Dictionary<string, string> { ["summary"] = "<!channel> drops & <https://evil.example|click>" }));

        await harness.Delivery.DeliverAsync(Samples.Slack(receiver), group, CancellationToken.None);

        var summary = Assert.Single(receiver.Requests).Json["blocks"]![2]!["text"]!["text"]!.GetValue<string>();
        Assert.Equal("*Summary*\n&lt;!channel&gt; drops &amp; &lt;https://evil.example|click&gt;", summary);
    }

    [Theory]
    [InlineData(400, "invalid_payload")]
    [InlineData(403, "action_prohibited")]
    [InlineData(404, "channel_not_found")]
    [InlineData(410, "channel_is_archived")]
    public async Task A_final_refusal_fails_at_once_without_a_retry(int status, string body)
    {
        await using var receiver = await HttpReceiver.StartAsync(_ => new ScriptedAnswer(status, body));
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(Samples.Slack(receiver), MixedGroup(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Failed, report.Outcome);
        Assert.Equal(1, receiver.Count);
        var attempt = Assert.Single(report.Attempts);
        Assert.Equal(status, attempt.StatusCode);
        Assert.Equal($"HTTP {status} from 127.0.0.1:{receiver.Address.Port}: {body}", attempt.Error);
    }

    [Fact]
    public async Task A_429_with_Retry_After_2_is_retried_after_2_seconds_and_not_before()
    {
        await using var receiver = await HttpReceiver.StartAsync(n => n == 1
            ? new ScriptedAnswer(429, "rate_limited", new Dictionary<string, string> { ["Retry-After"] = "2" })
            : ScriptedAnswer.Ok);
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(Samples.Slack(receiver), MixedGroup(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        Assert.Equal(2, receiver.Count);
        Assert.Equal(TimeSpan.FromSeconds(2), report.Attempts[0].RetryAfter);
        Assert.Equal(429, report.Attempts[0].StatusCode);
        var requests = receiver.Requests;
        var gap = Stopwatch.GetElapsedTime(requests[0].Timestamp, requests[1].Timestamp);
        Assert.True(gap >= TimeSpan.FromSeconds(2), $"retried after {gap.TotalMilliseconds:F0} ms");
        Assert.True(gap < TimeSpan.FromSeconds(5), $"retried after {gap.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task A_5xx_is_retried_with_exponential_backoff_until_delivered()
    {
        var clock = new ManualClock();
        await using var receiver = await HttpReceiver.StartAsync(n => n <= 3 ? new ScriptedAnswer(500, "rollup_error") : ScriptedAnswer.Ok);
        await using var harness = ChannelHarness.Create(clock);

        var report = await clock.RunAsync(harness.Delivery.DeliverAsync(Samples.Slack(receiver), MixedGroup(), CancellationToken.None));

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        Assert.Equal(4, receiver.Count);
        Assert.Equal([500, 500, 500, 200], report.Attempts.Select(a => a.StatusCode ?? 0));
        Assert.Equal([DeliveryOutcome.Retry, DeliveryOutcome.Retry, DeliveryOutcome.Retry, DeliveryOutcome.Delivered], report.Attempts.Select(a => a.Outcome));
        // 1 s, 2 s, 4 s, each shortened by up to 20 % jitter.
        var gaps = report.Attempts.Zip(report.Attempts.Skip(1), (a, b) => (b.At - a.At).TotalSeconds).ToArray();
        Assert.InRange(gaps[0], 0.8, 1.0);
        Assert.InRange(gaps[1], 1.6, 2.0);
        Assert.InRange(gaps[2], 3.2, 4.0);
        Assert.Equal(clock.Elapsed, report.Elapsed);
    }

    [Fact]
    public void Validation_wants_an_absolute_http_url_and_no_settings()
    {
        var channel = new SlackChannel(null!, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<SlackChannel>.Instance);

        var errors = channel.Validate(Samples.Config(
            ChannelTypes.Slack,
            settings: new Dictionary<string, string> { ["channel"] = "#ops" },
            secrets: new Dictionary<string, string> { ["url"] = "hooks.slack.com/services/T/B/secret" }));

        Assert.Equal(["secrets.url", "settings.channel"], errors.Keys.Order());
        Assert.DoesNotContain("secret", errors["secrets.url"]);
        Assert.Empty(channel.Validate(Samples.Config(ChannelTypes.Slack, secrets: new Dictionary<string, string> { ["url"] = "https://hooks.slack.com/services/T/B/secret" })));
    }
}
