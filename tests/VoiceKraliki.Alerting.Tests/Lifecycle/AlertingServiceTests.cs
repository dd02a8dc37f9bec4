extern alias apphost;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Alerting.Lifecycle;
using VoiceKraliki.Alerting.Tests.Channels;
using VoiceKraliki.Alerting.Tests.Signals;
using VoiceKraliki.Alerting.Tests.Support;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.Alerting.Tests.Lifecycle;

/// <summary>
/// The whole alerting service on real Postgres and RabbitMQ: a rule written through the API fires from events on the
/// bus, the alert is listed with its history, a real HTTP receiver gets Alertmanager's payload once, and the
/// resolution after the condition clears; bad input gets ProblemDetails.
/// </summary>
[Collection(AlertingInfrastructureCollection.Name)]
public sealed class AlertingServiceTests(AlertingInfrastructure infrastructure) : IAsyncLifetime
{
    private const string OperatorKey = "vk_test_alerting_operator_0123";
    private const string ViewerKey = "vk_test_alerting_service_01234";

    private TestDatabase _database = null!;
    private WebApplicationFactory<Program> _factory = null!;
    private HttpReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _database = await infrastructure.CreateDatabaseAsync();
        _receiver = await HttpReceiver.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:postgres-alerting"] = _database.ConnectionString,
            ["ConnectionStrings:messaging"] = infrastructure.Messaging,
            ["Auth:ApiKeys:0:Key"] = OperatorKey,
            ["Auth:ApiKeys:0:Roles"] = Roles.Operator,
            ["Auth:ApiKeys:1:Key"] = ViewerKey,
            ["Auth:ApiKeys:1:Roles"] = Roles.Service,
            ["Alerting:SecretKey"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
            ["Alerting:EvaluationInterval"] = "00:00:00.200",
            ["Alerting:Notifications:Route:GroupWait"] = "00:00:00",
            ["Alerting:Notifications:Route:GroupInterval"] = "00:00:01",
            ["Alerting:Signals:Windows:webhook_failure_rate"] = "00:00:05",
            ["Outbox:PollInterval"] = "00:00:00.200",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (key, value) in settings)
            {
                web.UseSetting(key, value);
            }
        });
        _ = _factory.Server;
        await apphost::VoiceKraliki.AppHost.Testing.HealthWait.UntilHealthyAsync(_factory.Services, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _receiver.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_rule_from_the_api_fires_from_bus_events_notifies_a_webhook_once_and_resolves_when_the_rate_falls()
    {
        using var api = Client(OperatorKey);
        var created = await api.PostAsync("/api/alerts/rules", Json("""
            {"name": "test_webhook_failures", "signal": "webhook_failure_rate", "comparison": ">", "threshold": 0.5, "for": "0s",
             "labels": {"severity": "critical", "team": "voice"},
             "annotations": {"summary": "{{ $labels.provider }} webhooks failing at {{ $value }}", "runbook_url": "https://example.com/runbook"}}
            """));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var channel = await api.PostAsJsonAsync("/api/alerts/channels", new
        {
            name = "receiver", type = "webhook", secrets = new Dictionary<string, string> { ["url"] = _receiver.Url("/alerts").ToString() },
        });
        Assert.Equal(HttpStatusCode.Created, channel.StatusCode);
        var channelBody = await channel.Content.ReadAsStringAsync();
        Assert.DoesNotContain(_receiver.Address.Authority, channelBody, StringComparison.Ordinal);

        var bus = _factory.Services.GetRequiredService<IBus>();
        for (var i = 0; i < 8; i++)
        {
            await bus.Publish(SignalEvents.Rejected(DateTimeOffset.UtcNow, Contracts.TelephonyProvider.Telnyx));
        }

        await Wait.Until(() => Task.FromResult(_receiver.Requests.Any(r => r.Json["status"]?.GetValue<string>() == "firing")), "the firing notification");
        var firing = _receiver.Requests.Single(r => r.Json["status"]?.GetValue<string>() == "firing").Json;
        Assert.Equal("4", firing["version"]!.GetValue<string>());
        var alert = firing["alerts"]![0]!;
        Assert.Equal("test_webhook_failures", alert["labels"]!["alertname"]!.GetValue<string>());
        Assert.Equal("telnyx", alert["labels"]!["provider"]!.GetValue<string>());
        Assert.Equal("telnyx webhooks failing at 1", alert["annotations"]!["summary"]!.GetValue<string>());

        var listed = JsonDocument.Parse(await api.GetStringAsync("/api/alerts?state=firing&label=alertname=test_webhook_failures")).RootElement;
        var id = Assert.Single(listed.EnumerateArray()).GetProperty("id").GetString();
        var ack = await api.PostAsJsonAsync($"/api/alerts/{id}/acknowledge", new { note = "on it" });
        Assert.Equal(HttpStatusCode.OK, ack.StatusCode);

        // The failures age out of the 5 s window while good webhooks arrive: the rate falls and the alert resolves.
        await Wait.Until(async () =>
        {
            await bus.Publish(SignalEvents.Accepted(DateTimeOffset.UtcNow, Contracts.TelephonyProvider.Telnyx));
            return _receiver.Requests.Any(r => r.Json["status"]?.GetValue<string>() == "resolved");
        }, "the resolved notification");

        var detail = JsonDocument.Parse(await api.GetStringAsync($"/api/alerts/{id}")).RootElement;
        Assert.Equal("resolved", detail.GetProperty("alert").GetProperty("state").GetString());
        Assert.Equal(["fired", "acknowledged", "resolved"], detail.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("kind").GetString()));
        // Told once that it fired (the acknowledgement is news for PagerDuty only) and once that it resolved.
        Assert.Equal(["firing", "resolved"], _receiver.Requests.Select(r => r.Json["status"]!.GetValue<string>()));
        Assert.Equal(2, await _database.ScalarAsync<long>("SELECT count(*) FROM outbox_messages WHERE type IN ('AlertFired', 'AlertResolved')"));
    }

    [Fact]
    public async Task Bad_rules_silences_channels_and_filters_get_problem_details_naming_the_field()
    {
        using var api = Client(OperatorKey);
        await AssertProblemAsync(await api.PostAsync("/api/alerts/rules", Json("""{"name": "x", "signal": "nope", "comparison": ">", "threshold": 1, "labels": {"severity": "high"}, "annotations": {"summary": "s"}}""")), "signal");
        await AssertProblemAsync(await api.PostAsync("/api/alerts/rules", Json("""{"name": "x", "signal": "error_rate", "comparison": ">", "threshold": 1, "labels": {"severity": "urgent"}, "annotations": {"summary": "s"}}""")), "labels.severity");
        await AssertProblemAsync(await api.PostAsync("/api/alerts/rules", Json("{not json")), "$");
        await AssertProblemAsync(await api.PutAsync("/api/alerts/rules/other", Json("""{"name": "x", "signal": "error_rate", "comparison": ">", "threshold": 1, "labels": {"severity": "high"}, "annotations": {"summary": "s"}}""")), "name");
        await AssertProblemAsync(await api.PostAsJsonAsync("/api/alerts/silences", new { matchers = new[] { new { name = "team", value = "" } }, endsAt = DateTimeOffset.UtcNow.AddHours(1), comment = "x" }), "matchers");
        await AssertProblemAsync(await api.PostAsJsonAsync("/api/alerts/silences", new { matchers = new[] { new { name = "provider", value = "twilio" } }, endsAt = DateTimeOffset.UtcNow.AddHours(-1), comment = "x" }), "endsAt");
        await AssertProblemAsync(await api.PostAsJsonAsync("/api/alerts/channels", new { name = "c", type = "carrier-pigeon" }), "type");
        await AssertProblemAsync(await api.PostAsJsonAsync("/api/alerts/channels", new { name = "c", type = "slack", secrets = new { url = "not a url" } }), "secrets.url");
        await AssertProblemAsync(await api.GetAsync("/api/alerts?state=exploded"), "state");
        await AssertProblemAsync(await api.GetAsync("/api/alerts?label=novalue"), "label");
        await AssertProblemAsync(await api.GetAsync("/api/alerts/signals/error_rate?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"), "from");

        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/alerts/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.PostAsJsonAsync($"/api/alerts/{Guid.NewGuid()}/acknowledge", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/alerts/rules/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/alerts/signals/nope")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Client(ViewerKey).GetAsync("/api/alerts")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Client(null).GetAsync("/api/alerts")).StatusCode);
    }

    [Fact]
    public async Task A_channel_keeps_its_secret_write_only_across_updates_and_its_test_reaches_the_receiver()
    {
        using var api = Client(OperatorKey);
        var secretUrl = _receiver.Url("/hooks/s3cr3t-t0k3n").ToString();
        var created = await api.PostAsJsonAsync("/api/alerts/channels", new { name = "ops-webhook", type = "webhook", secrets = new { url = secretUrl }, ratePerMinute = 30 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString();

        var renamed = await api.PutAsJsonAsync($"/api/alerts/channels/{id}", new { name = "ops-webhook-2", sendResolved = false });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        var view = await api.GetStringAsync($"/api/alerts/channels/{id}");
        Assert.DoesNotContain("s3cr3t", view, StringComparison.Ordinal);
        Assert.Equal(["url"], JsonDocument.Parse(view).RootElement.GetProperty("secrets").EnumerateArray().Select(s => s.GetString()));
        Assert.DoesNotContain("s3cr3t", await api.GetStringAsync("/api/alerts/channels"), StringComparison.Ordinal);

        var test = JsonDocument.Parse(await (await api.PostAsync($"/api/alerts/channels/{id}/test", null)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("delivered", test.GetProperty("outcome").GetString());
        var received = Assert.Single(_receiver.Requests);
        Assert.Equal("/hooks/s3cr3t-t0k3n", received.Path);
        Assert.Equal("channel_test", received.Json["alerts"]![0]!["labels"]!["alertname"]!.GetValue<string>());

        Assert.Equal(HttpStatusCode.Conflict, (await api.PostAsJsonAsync("/api/alerts/channels", new { name = "ops-webhook-2", type = "webhook", secrets = new { url = secretUrl } })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await api.PutAsJsonAsync($"/api/alerts/channels/{id}", new { type = "slack" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"/api/alerts/channels/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync($"/api/alerts/channels/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_silence_is_listed_with_who_and_why_and_expiring_it_ends_it_now()
    {
        using var api = Client(OperatorKey);
        var created = await api.PostAsJsonAsync("/api/alerts/silences", new
        {
            matchers = new object[] { new { name = "provider", value = "twilio" }, new { name = "severity", value = "high|critical", isRegex = true } },
            endsAt = DateTimeOffset.UtcNow.AddHours(2),
            comment = "carrier maintenance window",
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var silence = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("active", silence.GetProperty("status").GetString());
        Assert.Equal(["provider=\"twilio\"", "severity=~\"high|critical\""], silence.GetProperty("matchers").EnumerateArray().Select(m => m.GetString()));
        var id = silence.GetProperty("id").GetString();
        Assert.Contains(id, JsonDocument.Parse(await api.GetStringAsync("/api/alerts/silences")).RootElement.EnumerateArray().Select(s => s.GetProperty("id").GetString()));

        var expired = JsonDocument.Parse(await (await api.DeleteAsync($"/api/alerts/silences/{id}")).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("expired", expired.GetProperty("status").GetString());
        Assert.DoesNotContain(id, JsonDocument.Parse(await api.GetStringAsync("/api/alerts/silences")).RootElement.EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        Assert.Contains(id, JsonDocument.Parse(await api.GetStringAsync("/api/alerts/silences?expired=true")).RootElement.EnumerateArray().Select(s => s.GetProperty("id").GetString()));
    }

    [Fact]
    public async Task The_defaults_are_in_force_and_deleting_one_keeps_it_deleted()
    {
        using var api = Client(OperatorKey);
        var rules = JsonDocument.Parse(await api.GetStringAsync("/api/alerts/rules")).RootElement;
        Assert.Equal(8, rules.GetArrayLength());
        Assert.All(rules.EnumerateArray(), r => Assert.Equal("default", r.GetProperty("source").GetString()));

        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync("/api/alerts/rules/error_rate_high")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/alerts/rules/error_rate_high")).StatusCode);
        _factory.Services.GetRequiredService<RuleStore>().Invalidate();
        Assert.Equal(7, JsonDocument.Parse(await api.GetStringAsync("/api/alerts/rules")).RootElement.GetArrayLength());
    }

    private HttpClient Client(string? key)
    {
        var client = _factory.CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.HeaderName, key);
        }

        return client;
    }

    private static StringContent Json(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    private static async Task AssertProblemAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(field, JsonDocument.Parse(body).RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name));
    }
}
