using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Compliance.Retention;
using VoiceKraliki.Compliance.Tests.Consent;
using VoiceKraliki.Compliance.Tests.Support;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Compliance.Tests.Retention;

/// <summary>
/// Retention sweeps on the real service, database and broker, on a clock the test moves ahead by months: what is past
/// its region's policy goes to its holders, their answers are audited, and a second sweep finds nothing.
/// </summary>
[Collection(ComplianceInfrastructureCollection.Name)]
public sealed class RetentionSweepTests(ComplianceInfrastructure infrastructure)
{
    private const string Berlin = "+4930901820";
    private const string Munich = "+4989123456";
    private const string Dallas = "+12145550100";
    private const string NewYork = "+12125550147";
    private const string London = "+442079460000";

    private static readonly (string, string?)[] Fast =
    [
        ("Compliance:Retention:Sweep:PollInterval", "00:00:00.200"),
        ("Compliance:Retention:Sweep:Interval", "01:00:00"),
    ];

    private readonly string _run = Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Data_past_its_regions_policy_goes_to_its_holders_is_audited_and_a_second_sweep_finds_nothing()
    {
        var clock = new ShiftedClock();
        await using var holders = await RetentionHolders.StartAsync(infrastructure);
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure, clock, null, Fast);
        using var officer = host.CreateClient();
        var t0 = clock.GetUtcNow();
        var (eu, us, mixed, uk, unknown) = (Call("eu"), Call("us"), Call("mixed"), Call("uk"), Call("unknown"));
        await holders.CallAsync(eu, Berlin, Munich, t0);
        await holders.CallAsync(us, Dallas, NewYork, t0);
        await holders.CallAsync(mixed, Berlin, NewYork, t0);
        await holders.CallAsync(uk, London, Dallas, t0);
        await holders.CallAsync(unknown, "anonymous", NewYork, t0, providerRecording: "RE" + _run);
        foreach (var call in new[] { eu, us, mixed, uk })
        {
            await holders.StreamAsync(call, t0);
        }

        await Wait.Until(async () => await host.Database.ScalarAsync<long>("SELECT count(*) FROM retention_items") == 10, "the inventory of 5 calls × 2 categories");
        Assert.Equal("{RE" + _run + "}", await host.Database.ScalarAsync<string>($"SELECT provider_recordings::text FROM retention_calls WHERE provider_call_id = '{unknown}'"));
        var first = await UntilSweepsAsync(officer, 1);
        Assert.Equal(0, first[0].GetProperty("found").GetInt32());

        // A month on: recordings of every call with an EU party (30 days) and of the call with an unknown party (OTHER,
        // the strictest) are due; the UK's 60 days and the US's 365 are not.
        clock.Advance(TimeSpan.FromDays(31));
        var second = (await UntilSweepsAsync(officer, 2))[0];
        Assert.Equal("schedule", second.GetProperty("trigger").GetString());
        Assert.Equal(3, second.GetProperty("found").GetInt32());
        Assert.Equal(3, second.GetProperty("enforced").GetInt32());
        Assert.Equal(
            ["recording EU delete 2 2", "recording OTHER delete 1 1"],
            second.GetProperty("groups").EnumerateArray().Select(g =>
                $"{g.GetProperty("category").GetString()} {g.GetProperty("region").GetString()} {g.GetProperty("action").GetString()} {g.GetProperty("found").GetInt32()} {g.GetProperty("itemsAffected").GetInt32()}"));
        Assert.Equal(new[] { eu, mixed, unknown }.Order(), holders.Received.Select(e => e.ResourceId).Where(id => id.Contains(_run, StringComparison.Ordinal)).Order());
        var mixedEvent = Assert.Single(holders.For(mixed));
        Assert.Equal((DataCategories.Recording, "EU", RetentionActions.Delete), (mixedEvent.DataCategory, mixedEvent.Region, mixedEvent.Action));
        Assert.True((mixedEvent.RetainedUntil - t0.AddSeconds(20).AddDays(30)).Duration() < TimeSpan.FromMilliseconds(1), "due 30 days after the call ended");
        Assert.Equal(second.GetProperty("id").GetGuid(), mixedEvent.SweepId);

        Assert.Equal(3L, await host.Database.ScalarAsync<long>("SELECT count(*) FROM audit_entries WHERE kind = 'retention.deleted'"));
        Assert.Equal(1L, await host.Database.ScalarAsync<long>(
            $"SELECT count(*) FROM audit_entries WHERE kind = 'retention.deleted' AND details->>'call' = '{mixed}' AND details->>'region' = 'EU' AND actor = 'media-bridge'"));
        Assert.Equal(2L, await host.Database.ScalarAsync<long>("SELECT count(*) FROM audit_entries WHERE kind = 'retention.swept'"));

        // Nothing is left to find: the dry run says so, and a requested sweep finds nothing.
        var report = await ReportAsync(officer, null);
        Assert.Equal(0, report.GetProperty("due").GetInt32());
        Assert.Equal(0, report.GetProperty("expiring").GetInt32());
        var requested = await officer.PostAsJsonAsync("/api/compliance/retention/sweeps", new { });
        Assert.Equal(HttpStatusCode.Accepted, requested.StatusCode);
        var third = await UntilCompletedAsync(officer, requested.Headers.Location!);
        Assert.Equal(("request", 0), (third.GetProperty("trigger").GetString(), third.GetProperty("found").GetInt32()));
        Assert.Equal(3, holders.Received.Count(e => e.ResourceId.Contains(_run, StringComparison.Ordinal)));

        // A year from the calls, as a plan: the report lists what will be due then, and changes nothing.
        var plan = await ReportAsync(officer, t0.AddDays(400));
        Assert.Equal(
            ["call_metadata EU anonymize 2", "call_metadata OTHER anonymize 1", "call_metadata UK anonymize 1", "recording UK delete 1", "recording US delete 1"],
            plan.GetProperty("groups").EnumerateArray().Select(g =>
                $"{g.GetProperty("category").GetString()} {g.GetProperty("region").GetString()} {g.GetProperty("action").GetString()} {g.GetProperty("count").GetInt32()}"));
        Assert.Equal(0, (await ReportAsync(officer, null)).GetProperty("due").GetInt32());

        // Two months on, the UK call: its recording deleted and its record anonymized (60 days, with anonymization).
        clock.Advance(TimeSpan.FromDays(30));
        var fourth = (await UntilSweepsAsync(officer, 4))[0];
        Assert.Equal(2, fourth.GetProperty("found").GetInt32());
        Assert.Equal(
            [(DataCategories.CallMetadata, RetentionActions.Anonymize), (DataCategories.Recording, RetentionActions.Delete)],
            holders.For(uk).Select(e => (e.DataCategory, e.Action)).Order());
        Assert.Equal(1L, await host.Database.ScalarAsync<long>($"SELECT count(*) FROM audit_entries WHERE kind = 'retention.anonymized' AND details->>'call' = '{uk}' AND actor = 'call-state'"));
        Assert.True(JsonDocument.Parse(await officer.GetStringAsync("/api/compliance/audit/verify")).RootElement.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task An_item_its_holder_does_not_confirm_in_time_is_published_again_until_it_is()
    {
        var clock = new ShiftedClock();
        await using var holders = await RetentionHolders.StartAsync(infrastructure);
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure, clock, null,
            [.. Fast, ("Compliance:Retention:Sweep:ConfirmationTimeout", "00:10:00")]);
        using var officer = host.CreateClient();
        var call = Call("silent");
        await holders.CallAsync(call, Berlin, Munich, clock.GetUtcNow());
        await holders.StreamAsync(call, clock.GetUtcNow());
        await Wait.Until(async () => await host.Database.ScalarAsync<long>("SELECT count(*) FROM retention_items") == 2, "the inventory");
        await UntilSweepsAsync(officer, 1);

        holders.Silent = true;
        clock.Advance(TimeSpan.FromDays(31));
        await Wait.Until(() => Task.FromResult(holders.For(call).Count == 1), "the first event");
        var sweep = (await UntilSweepsAsync(officer, 2, status: "published"))[0];
        Assert.Equal(1, sweep.GetProperty("expiring").GetInt32());

        holders.Silent = false;
        clock.Advance(TimeSpan.FromMinutes(11));
        await Wait.Until(() => Task.FromResult(holders.For(call).Count == 2), "the event published again");
        var (firstEvent, again) = (holders.For(call)[0], holders.For(call)[1]);
        Assert.NotEqual(firstEvent.EventId, again.EventId);
        Assert.Equal((firstEvent.SweepId, firstEvent.Action, firstEvent.RetainedUntil), (again.SweepId, again.Action, again.RetainedUntil));
        var done = await UntilCompletedAsync(officer, new Uri($"/api/compliance/retention/sweeps/{sweep.GetProperty("id").GetGuid()}", UriKind.Relative));
        Assert.Equal(1, done.GetProperty("enforced").GetInt32());

        // Kept past its policy for want of a confirmation: a violation, for alerting.
        var violation = JsonDocument.Parse(await host.Database.ScalarAsync<string>(
            "SELECT payload::text FROM outbox_messages WHERE type = 'ComplianceViolationDetected'")).RootElement;
        Assert.Equal(("retention_overdue", "EU", call), (violation.GetProperty("type").GetString(), violation.GetProperty("region").GetString(), violation.GetProperty("correlationId").GetString()));
        Assert.Contains("media-bridge has not confirmed", violation.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_instance_sweeps_and_another_takes_over_when_it_goes()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        var first = await ComplianceServiceHost.StartAsync(infrastructure, null, database, Fast);
        await using var second = await ComplianceServiceHost.StartAsync(infrastructure, null, database, Fast);
        try
        {
            var sweepers = new[] { first, second }.Select(h => h.Services.GetRequiredService<RetentionSweeper>()).ToArray();
            await Wait.Until(() => Task.FromResult(sweepers.Any(s => s.IsSweeper)), "a sweeper elected");
            await Task.Delay(1000);
            Assert.Single(sweepers, s => s.IsSweeper);
            Assert.True(sweepers[0].IsSweeper, "the first instance started first and took the lock");
        }
        finally
        {
            await first.DisposeAsync();
        }

        await Wait.Until(() => Task.FromResult(second.Services.GetRequiredService<RetentionSweeper>().IsSweeper), "the second instance taking over", seconds: 15);
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM retention_sweeps WHERE trigger = 'schedule'"));
    }

    [Fact]
    public async Task A_redelivered_answer_is_audited_once()
    {
        await using var holders = await RetentionHolders.StartAsync(infrastructure);
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure, null, null, Fast);
        var answer = new RetentionEnforced(
            Guid.NewGuid(), DateTimeOffset.UtcNow, Call("late"), Guid.NewGuid(), "call-state", DataCategories.CallMetadata, Call("late"), RetentionActions.Delete, 1);

        await holders.Bus.Publish(answer);
        await holders.Bus.Publish(answer);
        await holders.Bus.Publish(answer with { EventId = Guid.NewGuid(), Service = "media-bridge", DataCategory = DataCategories.Recording });

        await Wait.Until(async () => await host.Database.ScalarAsync<long>("SELECT count(*) FROM retention_confirmations") == 2, "both answers recorded");
        await Task.Delay(500);
        Assert.Equal(2L, await host.Database.ScalarAsync<long>("SELECT count(*) FROM audit_entries WHERE kind = 'retention.deleted'"));
    }

    [Fact]
    public async Task The_api_rejects_bad_input_with_problem_details_and_needs_a_compliance_officer()
    {
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure, null, null, Fast);
        using var officer = host.CreateClient();
        using var operatorClient = host.CreateClient(ComplianceInfrastructure.OperatorApiKey);
        using var anonymous = host.CreateClient(apiKey: null);

        foreach (var query in new[] { "?asOf=yesterday", "?asOf=1999-01-01T00:00:00Z", "?limit=5000", "?limit=-1", "?limit=ten" })
        {
            var response = await officer.GetAsync("/api/compliance/retention/report" + query);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        Assert.Equal(HttpStatusCode.BadRequest, (await officer.GetAsync("/api/compliance/retention/sweeps?limit=0")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await officer.PostAsync("/api/compliance/retention/sweeps",
            new StringContent("{\"dryRun\": \"maybe\"}", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await officer.GetAsync($"/api/compliance/retention/sweeps/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.GetAsync("/api/compliance/retention/report")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.PostAsJsonAsync("/api/compliance/retention/sweeps", new { })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/compliance/retention/sweeps")).StatusCode);

        var dryRun = await officer.PostAsJsonAsync("/api/compliance/retention/sweeps", new { dryRun = true });
        Assert.Equal(HttpStatusCode.OK, dryRun.StatusCode);
        var report = JsonDocument.Parse(await dryRun.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(["transcript"], report.GetProperty("unswept").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(0L, await host.Database.ScalarAsync<long>("SELECT count(*) FROM retention_sweeps WHERE trigger = 'request'"));
    }

    private string Call(string name) => $"CA{name}{_run}";

    private static async Task<JsonElement> ReportAsync(HttpClient officer, DateTimeOffset? asOf) =>
        JsonDocument.Parse(await officer.GetStringAsync("/api/compliance/retention/report"
            + (asOf is null ? "" : "?asOf=" + Uri.EscapeDataString(asOf.Value.ToString("O"))))).RootElement;

    /// <summary>Waits until there are <paramref name="count"/> sweeps, the newest in <paramref name="status"/>; returns them newest first.</summary>
    private static async Task<JsonElement[]> UntilSweepsAsync(HttpClient officer, int count, string status = "completed")
    {
        JsonElement[] sweeps = [];
        await Wait.Until(async () =>
        {
            sweeps = [.. JsonDocument.Parse(await officer.GetStringAsync("/api/compliance/retention/sweeps")).RootElement.EnumerateArray()];
            return sweeps.Length == count && sweeps[0].GetProperty("status").GetString() == status;
        }, $"{count} sweeps, the last {status}");
        return sweeps;
    }

    private static async Task<JsonElement> UntilCompletedAsync(HttpClient officer, Uri sweep)
    {
        JsonElement view = default;
        await Wait.Until(async () =>
        {
            view = JsonDocument.Parse(await officer.GetStringAsync(sweep)).RootElement;
            return view.GetProperty("status").GetString() == "completed";
        }, "the sweep completed");
        return view;
    }
}
