using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Compliance.Retention;
using VoiceKraliki.Compliance.Tests.Consent;
using VoiceKraliki.Compliance.Tests.Support;

namespace VoiceKraliki.Compliance.Tests.Retention;

/// <summary>The retention policies in force: the audit's defaults, configuration on top, and each change audited once.</summary>
[Collection(ComplianceInfrastructureCollection.Name)]
public sealed class RetentionPolicyTests(ComplianceInfrastructure infrastructure)
{
    [Fact]
    public async Task The_defaults_are_the_audits_figures_and_every_region_has_a_policy()
    {
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure);
        using var service = host.CreateClient(ComplianceServiceHost.ServiceApiKey);

        var body = await service.GetStringAsync("/api/compliance/policies");
        var regions = JsonDocument.Parse(body).RootElement.GetProperty("regions");

        Assert.Equal(["APAC", "AU", "CA", "EU", "OTHER", "UK", "US"], regions.EnumerateObject().Select(r => r.Name).Order());
        Assert.Equal((30, 90), Days(regions, "EU"));
        Assert.Equal((365, 730), Days(regions, "US"));
        Assert.Equal((180, 365), Days(regions, "CA"));
        Assert.Equal(60, regions.GetProperty("UK").GetProperty("recordings").GetProperty("afterDays").GetInt32());
        Assert.Equal("anonymize", regions.GetProperty("UK").GetProperty("callMetadata").GetProperty("action").GetString());
        Assert.All(regions.EnumerateObject(), r => Assert.False(string.IsNullOrWhiteSpace(r.Value.GetProperty("basis").GetString())));

        var eu = await service.GetAsync("/api/compliance/policies/eu");
        Assert.Equal(HttpStatusCode.OK, eu.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await service.GetAsync("/api/compliance/policies/mars")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await service.GetAsync("/api/compliance/policies/3")).StatusCode);
    }

    [Fact]
    public async Task A_policy_set_is_audited_when_first_run_and_again_only_when_it_changes()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using (var first = await ComplianceServiceHost.StartAsync(infrastructure, database))
        {
            await Wait.Until(async () => await PolicyChangesAsync(database) == 1);
        }

        // The same policies again (another replica, a restart): nothing new.
        await using (var same = await ComplianceServiceHost.StartAsync(infrastructure, database))
        {
            Assert.False(await same.Services.GetRequiredService<PolicyRegistry>().RecordAsync(CancellationToken.None));
        }

        Assert.Equal(1L, await PolicyChangesAsync(database));

        // The EU shortened to 14 days: a new version, audited with the new figures.
        await using (var changed = await ComplianceServiceHost.StartAsync(infrastructure, database,
            ("Compliance:Retention:Regions:EU:Recordings:AfterDays", "14"),
            ("Compliance:Retention:Regions:EU:Transcripts:AfterDays", "30"),
            ("Compliance:Retention:Regions:EU:CallMetadata:Action", "anonymize"),
            ("Compliance:Retention:Regions:EU:CallMetadata:AfterDays", "365"),
            ("Compliance:Retention:Regions:EU:Basis", "Our DPO's decision of 2026-11-23")))
        {
            await Wait.Until(async () => await PolicyChangesAsync(database) == 2);
            using var officer = changed.CreateClient();
            var verify = JsonDocument.Parse(await officer.GetStringAsync("/api/compliance/audit/verify")).RootElement;
            Assert.True(verify.GetProperty("ok").GetBoolean());
        }

        Assert.Equal(14, await database.ScalarAsync<int>(
            "SELECT (details->'regions'->'EU'->'recordings'->>'afterDays')::int FROM audit_entries WHERE kind = 'policy.changed' ORDER BY seq DESC LIMIT 1"));
    }

    private static Task<long> PolicyChangesAsync(TestDatabase database) =>
        database.ScalarAsync<long>("SELECT count(*) FROM audit_entries WHERE kind = 'policy.changed'");

    private static (int Recordings, int Transcripts) Days(JsonElement regions, string region) =>
        (regions.GetProperty(region).GetProperty("recordings").GetProperty("afterDays").GetInt32(),
         regions.GetProperty(region).GetProperty("transcripts").GetProperty("afterDays").GetInt32());
}
