using System.Text.Json.Nodes;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.Alerting.Notifications.Channels;

namespace VoiceKraliki.Alerting.Tests.Channels;

/// <summary>Alertmanager's webhook payload (version 4), against a real HTTP receiver.</summary>
public class WebhookChannelTests
{
    private static string Fingerprint(string provider, string severity = "high") =>
        LabelSet.Of(("alertname", "HighCallDropRate"), ("provider", provider), ("severity", severity)).Fingerprint;

    [Fact]
    public async Task The_payload_is_alertmanagers_version_4()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var harness = ChannelHarness.Create();
        var group = Samples.Group(Samples.Alert("twilio"), Samples.Alert("telnyx", Notification.Resolved));

        var report = await harness.Delivery.DeliverAsync(Samples.Webhook(receiver), group, CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("/alerts?token=hookSECRETtoken42", request.Path);
        var expected = JsonNode.Parse($$"""
            {
              "receiver": "ops",
              "status": "firing",
              "alerts": [
                {
                  "status": "firing",
                  "labels": { "alertname": "HighCallDropRate", "provider": "twilio", "severity": "high" },
                  "annotations": { "runbook_url": "https://runbooks.example.test/call-drops", "summary": "Call drop rate on twilio above 10%" },
                  "startsAt": "2026-03-01T11:52:30Z",
                  "endsAt": "0001-01-01T00:00:00Z",
                  "generatorURL": "",
                  "fingerprint": "{{Fingerprint("twilio")}}"
                },
                {
                  "status": "resolved",
                  "labels": { "alertname": "HighCallDropRate", "provider": "telnyx", "severity": "high" },
                  "annotations": { "runbook_url": "https://runbooks.example.test/call-drops", "summary": "Call drop rate on telnyx above 10%" },
                  "startsAt": "2026-03-01T11:52:30Z",
                  "endsAt": "2026-03-01T11:59:30Z",
                  "generatorURL": "",
                  "fingerprint": "{{Fingerprint("telnyx")}}"
                }
              ],
              "groupLabels": { "alertname": "HighCallDropRate" },
              "commonLabels": { "alertname": "HighCallDropRate", "severity": "high" },
              "commonAnnotations": { "runbook_url": "https://runbooks.example.test/call-drops" },
              "externalURL": "https://alerts.example.test/",
              "version": "4",
              "groupKey": "{}:{alertname=\"HighCallDropRate\"}",
              "truncatedAlerts": 0
            }
            """);
        Assert.True(JsonNode.DeepEquals(expected, request.Json), request.Body);
        // Go's encoder writes the embedded template.Data first, then version, groupKey, truncatedAlerts.
        Assert.Equal(
            ["receiver", "status", "alerts", "groupLabels", "commonLabels", "commonAnnotations", "externalURL", "version", "groupKey", "truncatedAlerts"],
            request.Json.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task Max_alerts_truncates_and_counts_what_it_left_out()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var harness = ChannelHarness.Create();
        var group = Samples.Group(Samples.Alert("telnyx", Notification.Resolved), Samples.Alert("twilio"), Samples.Alert("vonage", severity: "critical"));

        await harness.Delivery.DeliverAsync(Samples.Webhook(receiver, settings: new Dictionary<string, string> { ["max_alerts"] = "1" }), group, CancellationToken.None);

        var json = Assert.Single(receiver.Requests).Json;
        Assert.Equal(2, json["truncatedAlerts"]!.GetValue<int>());
        var alert = Assert.Single(json["alerts"]!.AsArray());
        // Firing alerts are kept before resolved ones; common labels are those of the alerts sent, as Alertmanager does.
        Assert.Equal("twilio", alert!["labels"]!["provider"]!.GetValue<string>());
        Assert.Equal("twilio", json["commonLabels"]!["provider"]!.GetValue<string>());
        Assert.Equal("firing", json["status"]!.GetValue<string>());
    }

    [Theory]
    [InlineData(404, DeliveryOutcome.Failed, 1)]
    [InlineData(401, DeliveryOutcome.Failed, 1)]
    [InlineData(503, DeliveryOutcome.Delivered, 2)]
    public async Task Receiver_errors_are_final_or_retried(int status, DeliveryOutcome outcome, int requests)
    {
        var clock = new ManualClock();
        await using var receiver = await HttpReceiver.StartAsync(n => n == 1 ? new ScriptedAnswer(status) : ScriptedAnswer.Ok);
        await using var harness = ChannelHarness.Create(clock);

        var report = await clock.RunAsync(harness.Delivery.DeliverAsync(Samples.Webhook(receiver), Samples.Group(Samples.Alert("twilio")), CancellationToken.None));

        Assert.Equal(outcome, report.Outcome);
        Assert.Equal(requests, receiver.Count);
    }

    [Fact]
    public async Task A_redirect_is_not_followed()
    {
        await using var receiver = await HttpReceiver.StartAsync(n => n == 1
            ? new ScriptedAnswer(307, "", new Dictionary<string, string> { ["Location"] = "/elsewhere" })
            : ScriptedAnswer.Ok);
        await using var harness = ChannelHarness.Create();

        var report = await harness.Delivery.DeliverAsync(Samples.Webhook(receiver), Samples.Group(Samples.Alert("twilio")), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Failed, report.Outcome);
        Assert.Equal(1, receiver.Count);
    }

    [Fact]
    public void Validation_checks_the_url_and_max_alerts()
    {
        var channel = new WebhookChannel(null!, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<WebhookChannel>.Instance);

        var errors = channel.Validate(Samples.Config(
            ChannelTypes.Webhook,
            settings: new Dictionary<string, string> { ["max_alerts"] = "-1" },
            secrets: new Dictionary<string, string> { ["url"] = "https://user:pass@hooks.example/x" },
            ratePerMinute: 0));

        Assert.Equal(["ratePerMinute", "secrets.url", "settings.max_alerts"], errors.Keys.Order());
    }
}
