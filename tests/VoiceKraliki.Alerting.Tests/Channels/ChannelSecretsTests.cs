using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.Alerting.Notifications.Channels;

namespace VoiceKraliki.Alerting.Tests.Channels;

/// <summary>Webhook URLs, routing keys and passwords never reach a log line or a delivery report, whatever happens.</summary>
public class ChannelSecretsTests
{
    private const string SlackToken = "xoxSECRETslackTOKEN0001";
    private const string RoutingKey = "R0UT1NGKEYsecret0123456789abcdef";
    private const string HookToken = "hookSECRETtoken42";
    private const string Password = "hunter2-SECRET-pw";

    [Fact]
    public async Task Secrets_appear_in_no_log_and_no_report()
    {
        // Receivers that fail in every way, some echoing the secret they were sent, as real ones do.
        await using var slack = await HttpReceiver.StartAsync(n => n switch
        {
            1 => new ScriptedAnswer(500, $"upstream error for /services/T0001/B0001/{SlackToken}"),
            2 => new ScriptedAnswer(429, "rate_limited", new Dictionary<string, string> { ["Retry-After"] = "1" }),
            3 => ScriptedAnswer.Ok,
            _ => new ScriptedAnswer(404, $"no_service {SlackToken}"),
        });
        await using var pagerDuty = await HttpReceiver.StartAsync(_ => new ScriptedAnswer(400,
            $$"""{"status":"invalid event","message":"Event object is invalid","errors":["routing_key {{RoutingKey}} is not an integration key"]}"""));
        await using var webhook = await HttpReceiver.StartAsync(_ => new ScriptedAnswer(403, $"token={HookToken} revoked"));
        await using var smtp = await SmtpSink.StartPlainAsync();
        await using var harness = ChannelHarness.Create(configure: o => o.InitialBackoff = TimeSpan.FromMilliseconds(50));
        // Its own harness for the unreachable webhook, so that it gives up soon.
        await using var impatient = ChannelHarness.Create(configure: o =>
        {
            o.InitialBackoff = TimeSpan.FromMilliseconds(50);
            o.DeliveryDeadline = TimeSpan.FromSeconds(1);
        });
        var group = Samples.Group(Samples.Alert("twilio"));

        var reports = new List<DeliveryReport>
        {
            await harness.Delivery.DeliverAsync(Samples.Slack(slack, SlackToken), group, CancellationToken.None),
            await harness.Delivery.DeliverAsync(Samples.Slack(slack, SlackToken), group, CancellationToken.None),
            await harness.Delivery.DeliverAsync(Samples.PagerDuty(pagerDuty, RoutingKey), group, CancellationToken.None),
            await harness.Delivery.DeliverAsync(Samples.Webhook(webhook, HookToken), group, CancellationToken.None),
            await impatient.Delivery.DeliverAsync(
                Samples.Config(ChannelTypes.Webhook, secrets: new Dictionary<string, string> { ["url"] = $"http://127.0.0.1:{ClosedPort.Find()}/hooks/{HookToken}" }),
                group,
                CancellationToken.None),
            await harness.Delivery.DeliverAsync(
                Samples.Config(
                    ChannelTypes.Email,
                    new Dictionary<string, string> { ["host"] = "127.0.0.1", ["port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["from"] = "alerts@example.test", ["to"] = "oncall@example.test", ["username"] = "alerts" },
                    new Dictionary<string, string> { ["password"] = Password }),
                group,
                CancellationToken.None),
        };

        Assert.Equal(
            [DeliveryOutcome.Delivered, DeliveryOutcome.Failed, DeliveryOutcome.Failed, DeliveryOutcome.Failed, DeliveryOutcome.Retry, DeliveryOutcome.Failed],
            reports.Select(r => r.Outcome));
        var reported = string.Join("\n", reports.SelectMany(r => r.Attempts.Select(a => a.Error).Append(r.Error)));
        var logged = harness.Logs.All + "\n" + impatient.Logs.All;
        foreach (var secret in new[] { SlackToken, RoutingKey, HookToken, Password, "/services/T0001/B0001" })
        {
            Assert.DoesNotContain(secret, reported, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(secret, logged, StringComparison.OrdinalIgnoreCase);
        }

        // What is said instead: the channel, the host and what the receiver said around the secret.
        Assert.Contains("upstream error for ***", reported);
        Assert.Contains("Event object is invalid", reported);
        Assert.Contains($"ops-slack", logged);
        Assert.Contains($"127.0.0.1:{slack.Address.Port}", logged);
        // The HttpClient factory's own request logging (which writes full URIs) is off for the channels' clients.
        Assert.DoesNotContain("System.Net.Http.HttpClient.alerting", logged);
    }
}
