using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using VoiceKraliki.AppHost;
using VoiceKraliki.AppHost.Orchestration;
using VoiceKraliki.AppHost.Testing.Receivers;
using VoiceKraliki.IntegrationTests.Support;
using Xunit.Abstractions;

namespace VoiceKraliki.IntegrationTests;

/// <summary>
/// Alerting end to end on the whole system: signed-but-invalid webhooks through the gateway fire a webhook failure
/// rule; a Slack receiver, a PagerDuty receiver (both real HTTP servers standing in by URL) and a real SMTP server each
/// get exactly one notification, also across a SIGKILL of the alerting service; when the failures stop, the alert
/// resolves and PagerDuty gets the resolve with the trigger's dedup key.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class AlertingSystemTests(SystemFixture system, ITestOutputHelper output)
{
    private readonly ProviderWebhooks _webhooks = new(system.Gateway);

    [Fact]
    public async Task Invalid_webhooks_fire_one_notification_per_channel_that_survives_a_restart_and_resolve_with_the_same_dedup_key()
    {
        var rule = "it_webhook_failures_" + Guid.NewGuid().ToString("N")[..8];
        await using var slack = await HttpReceiver.StartAsync();
        await using var pagerDuty = await HttpReceiver.StartAsync(_ => new ScriptedAnswer(202, """{"status":"success","message":"Event processed","dedup_key":"x"}"""));
        await using var smtp = await SmtpSink.StartPlainAsync();
        using var api = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);

        await CreateAsync(api, "/api/alerts/channels", new { name = rule + "-slack", type = "slack", secrets = new { url = slack.Url("/services/T000/B000/XXXX").ToString() } });
        await CreateAsync(api, "/api/alerts/channels", new
        {
            name = rule + "-pagerduty", type = "pagerduty",
            settings = new { url = pagerDuty.Url("/v2/enqueue").ToString() }, secrets = new { routing_key = "R0UT1NGKEY0123456789012345678901" },
        });
        await CreateAsync(api, "/api/alerts/channels", new
        {
            name = rule + "-email", type = "email",
            settings = new { host = "127.0.0.1", port = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), from = "alerts@voicekraliki.test", to = "oncall@voicekraliki.test", starttls = "none" },
        });
        await CreateAsync(api, "/api/alerts/rules", JsonNode.Parse($$$"""
            {"name": "{{{rule}}}", "signal": "webhook_failure_rate", "comparison": ">", "threshold": 0.5, "for": "0s",
             "labels": {"severity": "critical"},
             "annotations": {"summary": "{{ $labels.provider }} webhooks failing ({{ $value }})", "runbook_url": "https://example.com/runbooks/webhooks"}}
            """)!);

        // The breach: forged signatures from one address, each answered 403 by ingress.
        // The rule can hold once the window has 5 events (the minimum volume), all rejected: the 5th forged webhook is the
        // breaching event, and the time to each notification is measured from its answer (receivers stamp arrivals with
        // the same monotonic clock).
        long breachedAt = 0;
        using (var attacker = _webhooks.ClientFrom(ProviderWebhooks.NextAddress()))
        {
            for (var i = 1; i <= 30; i++)
            {
                using var forged = await attacker.SendAsync(_webhooks.Forged(ProviderWebhooks.NewCallSid()));
                Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
                if (i == 5)
                {
                    breachedAt = Stopwatch.GetTimestamp();
                }
            }
        }

        await SystemCalls.Eventually(() => Task.FromResult(Ours(slack, rule, "firing").Any() && Ours(pagerDuty, rule, "trigger").Any()), "the firing notifications", 30);
        await SystemCalls.Eventually(async () => await smtp.NothingArrivesAsync(TimeSpan.Zero) == false, "the email", 30);
        var slackAfter = Stopwatch.GetElapsedTime(breachedAt, Ours(slack, rule, "firing").First().Timestamp);
        var pagerAfter = Stopwatch.GetElapsedTime(breachedAt, Ours(pagerDuty, rule, "trigger").First().Timestamp);
        output.WriteLine($"breach → notification request: Slack {slackAfter.TotalMilliseconds:F0} ms, PagerDuty {pagerAfter.TotalMilliseconds:F0} ms");
        // The milestone expects detection within a minute and notification within 30 s; we aim for 5 s in all. A bound
        // only a gross regression breaks (the figures are in docs/performance.md).
        Assert.True(slackAfter < TimeSpan.FromSeconds(15) && pagerAfter < TimeSpan.FromSeconds(15), $"Slack {slackAfter}, PagerDuty {pagerAfter}");

        var trigger = Ours(pagerDuty, rule, "trigger").Single().Json;
        Assert.Equal("R0UT1NGKEY0123456789012345678901", trigger["routing_key"]!.GetValue<string>());
        Assert.Equal("critical", trigger["payload"]!["severity"]!.GetValue<string>());
        Assert.Contains("twilio webhooks failing", trigger["payload"]!["summary"]!.GetValue<string>(), StringComparison.Ordinal);
        var dedupKey = trigger["dedup_key"]!.GetValue<string>();
        Assert.Contains(rule, Ours(slack, rule, "firing").Single().Body, StringComparison.Ordinal);
        var email = await smtp.NextMessageAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["oncall@voicekraliki.test"], email["rcpttos"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Contains(rule, email["headers"]!["Subject"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("FIRING", email["headers"]!["Subject"]!.GetValue<string>(), StringComparison.Ordinal);

        var alerts = JsonDocument.Parse(await api.GetStringAsync($"/api/alerts?state=firing&label=alertname={rule}")).RootElement;
        Assert.Equal("twilio", Assert.Single(alerts.EnumerateArray()).GetProperty("labels").GetProperty("provider").GetString());

        // A SIGKILL of alerting while the alert fires: the restarted service reads the notification log and tells no one again.
        var pid = Assert.Single(system.App.GetResource(AppModel.AlertingName).ProcessIds);
        Process.GetProcessById(pid).Kill();
        await SystemCalls.Eventually(() => Task.FromResult(system.App.GetResource(AppModel.AlertingName) is { State: ResourceState.Healthy } r && r.ProcessIds.Count == 1 && r.ProcessIds[0] != pid), "alerting restarted", 30);
        await system.WaitForHealthAsync(AppModel.AlertingName, HttpStatusCode.OK, TimeSpan.FromSeconds(30));

        // The failures age out of the 10 s window while valid webhooks arrive: the alert resolves.
        await SystemCalls.Eventually(async () =>
        {
            using var provider = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
            using var valid = await provider.SendAsync(_webhooks.TwilioStatus(ProviderWebhooks.NewCallSid(), "ringing", 1));
            return Ours(pagerDuty, rule, "resolve").Any() && Ours(slack, rule, "resolved").Any();
        }, "the resolution", 60);
        await SystemCalls.Eventually(async () => await smtp.NothingArrivesAsync(TimeSpan.Zero) == false, "the resolution email", 30);
        var resolvedEmail = (await smtp.NextMessageAsync(TimeSpan.FromSeconds(5)))["headers"]!["Subject"]!.GetValue<string>();
        Assert.Contains("RESOLVED", resolvedEmail, StringComparison.Ordinal);
        Assert.Contains(rule, resolvedEmail, StringComparison.Ordinal);

        Assert.Equal(dedupKey, Ours(pagerDuty, rule, "resolve").Single().Json["dedup_key"]!.GetValue<string>());
        Assert.Single(Ours(pagerDuty, rule, "trigger"));
        Assert.Single(Ours(slack, rule, "firing"));
        Assert.True(await smtp.NothingArrivesAsync(TimeSpan.FromSeconds(2)), "a third email arrived");
        var resolved = JsonDocument.Parse(await api.GetStringAsync($"/api/alerts?label=alertname={rule}")).RootElement;
        Assert.Equal("resolved", Assert.Single(resolved.EnumerateArray()).GetProperty("state").GetString());

        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/alerts/rules/{rule}")).StatusCode);
        foreach (var channel in JsonDocument.Parse(await api.GetStringAsync("/api/alerts/channels")).RootElement.EnumerateArray().Where(c => c.GetProperty("name").GetString()!.StartsWith(rule, StringComparison.Ordinal)))
        {
            Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/alerts/channels/{channel.GetProperty("id").GetString()}")).StatusCode);
        }
    }

    /// <summary>
    /// The requests a receiver got about this test's rule with this status: Slack's text carries the status, PagerDuty's
    /// event_action is trigger/acknowledge/resolve.
    /// </summary>
    private static IEnumerable<ReceivedRequest> Ours(HttpReceiver receiver, string rule, string status) =>
        receiver.Requests.Where(r => r.Body.Contains(rule, StringComparison.Ordinal)
                                     && (r.Json["event_action"]?.GetValue<string>() == status
                                         || (r.Json["event_action"] is null && r.Body.Contains(status.ToUpperInvariant(), StringComparison.Ordinal))));

    private static async Task CreateAsync(HttpClient api, string path, object body)
    {
        using var response = await api.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{path}: {(int)response.StatusCode} {text}");
    }
}
