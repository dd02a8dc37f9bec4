using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.Alerting.Notifications.Channels;

namespace VoiceKraliki.Alerting.Tests.Channels;

/// <summary>PagerDuty Events API v2, against a real HTTP receiver standing in for events.pagerduty.com.</summary>
public class PagerDutyChannelTests
{
    private static readonly string ExpectedDedupKey =
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("ops\n" + Samples.GroupKey)));

    private static ScriptedAnswer Accepted(int n) => new(202, $$"""{"status":"success","message":"Event processed","dedup_key":"{{ExpectedDedupKey}}"}""");

    [Fact]
    public async Task A_firing_group_triggers_with_the_events_v2_payload()
    {
        await using var receiver = await HttpReceiver.StartAsync(Accepted);
        await using var harness = ChannelHarness.Create();
        var group = Samples.Group(
            Samples.Alert("twilio", value: 0.12),
            Samples.Alert("vonage", severity: "critical", value: 0.31),
            Samples.Alert("telnyx", Notification.Resolved, value: 0.04));

        var report = await harness.Delivery.DeliverAsync(Samples.PagerDuty(receiver), group, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        Assert.Equal(202, report.Attempts.Single().StatusCode);
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("/v2/enqueue", request.Path);
        var expected = JsonNode.Parse($$"""
            {
              "routing_key": "R0UT1NGKEYsecret0123456789abcdef",
              "event_action": "trigger",
              "dedup_key": "{{ExpectedDedupKey}}",
              "payload": {
                "summary": "[FIRING:2] HighCallDropRate: Call drop rate on twilio above 10%",
                "source": "voicekraliki",
                "severity": "critical",
                "timestamp": "2026-03-01T11:52:30Z",
                "class": "HighCallDropRate",
                "custom_details": {
                  "num_firing": 2,
                  "num_resolved": 1,
                  "group_labels": { "alertname": "HighCallDropRate" },
                  "alerts": [
                    { "status": "firing",
                      "labels": { "alertname": "HighCallDropRate", "provider": "twilio", "severity": "high" },
                      "annotations": { "runbook_url": "https://runbooks.example.test/call-drops", "summary": "Call drop rate on twilio above 10%" },
                      "value": 0.12, "starts_at": "2026-03-01T11:52:30Z" },
                    { "status": "firing",
                      "labels": { "alertname": "HighCallDropRate", "provider": "vonage", "severity": "critical" },
                      "annotations": { "runbook_url": "https://runbooks.example.test/call-drops", "summary": "Call drop rate on vonage above 10%" },
                      "value": 0.31, "starts_at": "2026-03-01T11:52:30Z" },
                    { "status": "resolved",
                      "labels": { "alertname": "HighCallDropRate", "provider": "telnyx", "severity": "high" },
                      "annotations": { "runbook_url": "https://runbooks.example.test/call-drops", "summary": "Call drop rate on telnyx above 10%" },
                      "value": 0.04, "starts_at": "2026-03-01T11:52:30Z", "ends_at": "2026-03-01T11:59:30Z" }
                  ]
                }
              },
              "client": "VoiceKraliki alerting",
              "client_url": "https://alerts.example.test/",
              "links": [ { "href": "https://runbooks.example.test/call-drops", "text": "Runbook" } ]
            }
            """);
        Assert.True(JsonNode.DeepEquals(expected, request.Json), request.Body);
    }

    [Fact]
    public async Task One_incident_per_group_triggered_then_acknowledged_then_resolved()
    {
        await using var receiver = await HttpReceiver.StartAsync(Accepted);
        await using var harness = ChannelHarness.Create();
        var config = Samples.PagerDuty(receiver);
        var ack = new Acknowledgement("maria", Samples.Start.AddMinutes(3), null);

        await harness.Delivery.DeliverAsync(config, Samples.Group(Samples.Alert("twilio"), Samples.Alert("vonage")), CancellationToken.None);
        await harness.Delivery.DeliverAsync(config, Samples.Group(Samples.Alert("twilio", acknowledgement: ack), Samples.Alert("vonage")), CancellationToken.None);
        await harness.Delivery.DeliverAsync(config, Samples.Group(Samples.Alert("twilio", acknowledgement: ack), Samples.Alert("vonage", acknowledgement: ack)), CancellationToken.None);
        await harness.Delivery.DeliverAsync(config, Samples.Group(Samples.Alert("twilio", Notification.Resolved), Samples.Alert("vonage", Notification.Resolved)), CancellationToken.None);

        var events = receiver.Requests.Select(r => r.Json).ToArray();
        Assert.Equal(["trigger", "trigger", "acknowledge", "resolve"], events.Select(e => e["event_action"]!.GetValue<string>()));
        Assert.All(events, e => Assert.Equal(ExpectedDedupKey, e["dedup_key"]!.GetValue<string>()));
        Assert.Equal(64, ExpectedDedupKey.Length);

        var otherReceiver = Samples.Group(Samples.Alert("twilio")) with { Receiver = "finance" };
        Assert.NotEqual(ExpectedDedupKey, PagerDutyChannel.DedupKey(otherReceiver));
    }

    [Fact]
    public async Task The_summary_is_cut_to_1024_characters_and_source_comes_from_the_setting()
    {
        await using var receiver = await HttpReceiver.StartAsync(Accepted);
        await using var harness = ChannelHarness.Create();
        var group = Samples.Group(Samples.Alert("twilio", annotations: new Dictionary<string, string> { ["summary"] = new string('x', 3000) }));

        await harness.Delivery.DeliverAsync(Samples.PagerDuty(receiver, settings: new Dictionary<string, string> { ["source"] = "kraliki-prod" }), group, CancellationToken.None);

        var payload = Assert.Single(receiver.Requests).Json["payload"]!;
        var summary = payload["summary"]!.GetValue<string>();
        Assert.Equal(1024, summary.Length);
        Assert.EndsWith("x…", summary);
        Assert.Equal("kraliki-prod", payload["source"]!.GetValue<string>());
        // A label every alert shares names the component.
        Assert.Equal("twilio", payload["component"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("critical", "critical")]
    [InlineData("high", "error")]
    [InlineData("medium", "warning")]
    [InlineData("low", "info")]
    public async Task Severities_map_onto_pagerdutys(string ours, string theirs)
    {
        await using var receiver = await HttpReceiver.StartAsync(Accepted);
        await using var harness = ChannelHarness.Create();

        await harness.Delivery.DeliverAsync(Samples.PagerDuty(receiver), Samples.Group(Samples.Alert("twilio", severity: ours)), CancellationToken.None);

        Assert.Equal(theirs, Assert.Single(receiver.Requests).Json["payload"]!["severity"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_400_is_final_and_reports_pagerdutys_reason()
    {
        await using var receiver = await HttpReceiver.StartAsync(_ => new ScriptedAnswer(400,
            """{"status":"invalid event","message":"Event object is invalid","errors":["'payload.severity' is missing"]}"""));
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(Samples.PagerDuty(receiver), Samples.Group(Samples.Alert("twilio")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Failed, report.Outcome);
        Assert.Equal(1, receiver.Count);
        Assert.Contains("HTTP 400", report.Error);
        Assert.Contains("Event object is invalid", report.Error);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Throttling_and_server_errors_are_retried(int status)
    {
        var clock = new ManualClock();
        await using var receiver = await HttpReceiver.StartAsync(n => n == 1 ? new ScriptedAnswer(status) : Accepted(n));
        await using var harness = ChannelHarness.Create(clock);

        var report = await clock.RunAsync(harness.Delivery.DeliverAsync(Samples.PagerDuty(receiver), Samples.Group(Samples.Alert("twilio")), CancellationToken.None));

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        Assert.Equal([status, 202], report.Attempts.Select(a => a.StatusCode ?? 0));
    }

    [Fact]
    public void Validation_defaults_the_url_and_checks_what_is_given()
    {
        var channel = new PagerDutyChannel(null!, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<PagerDutyChannel>.Instance);

        Assert.Empty(channel.Validate(Samples.Config(ChannelTypes.PagerDuty, secrets: new Dictionary<string, string> { ["routing_key"] = "R0UT1NGKEYsecret0123456789abcdef" })));
        var errors = channel.Validate(Samples.Config(
            ChannelTypes.PagerDuty,
            settings: new Dictionary<string, string> { ["url"] = "ftp://events.example", ["severity"] = "high" },
            secrets: new Dictionary<string, string>()));
        Assert.Equal(["secrets.routing_key", "settings.severity", "settings.url"], errors.Keys.Order());
    }
}
