using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using VoiceKraliki.Compliance.Tests.Consent;
using VoiceKraliki.Compliance.Tests.Support;

namespace VoiceKraliki.Compliance.Tests.Requests;

/// <summary>
/// Data-subject requests through the real service, its real bus and database, with compliance's own part only (the
/// whole system's run is in the integration tests): erasure leaves nothing that holds the number, export bundles the
/// subject's consents, and a request about to miss its deadline is reported.
/// </summary>
[Collection(ComplianceInfrastructureCollection.Name)]
public sealed class SubjectRequestTests(ComplianceInfrastructure infrastructure)
{
    private const string Number = "+4930901829";
    private const string Digits = "4930901829";

    private static readonly (string, string?)[] ComplianceOnly =
    [
        ("Compliance:Requests:ErasureServices", "compliance"),
        ("Compliance:Requests:ExportServices", "compliance"),
    ];

    [Fact]
    public async Task An_erasure_withdraws_and_deletes_the_consents_and_afterwards_no_row_holds_the_number()
    {
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure, null, ComplianceOnly);
        using var officer = host.CreateClient();
        await GiveAsync(officer, "recording");
        await GiveAsync(officer, "ai_processing");

        var request = await CreateAsync(officer, "erasure");
        var done = await UntilCompletedAsync(officer, request);

        var part = done.GetProperty("parts")[0];
        Assert.Equal("compliance", part.GetProperty("service").GetString());
        Assert.Equal(4, part.GetProperty("items").GetInt32()); // two given, two withdrawn, then all deleted
        Assert.Equal(HttpStatusCode.NotFound, (await officer.GetAsync($"/api/compliance/consents?phoneNumber={Uri.EscapeDataString(Number)}")).StatusCode);
        var decision = JsonDocument.Parse(await officer.GetStringAsync(
            $"/api/compliance/decisions/recording?from={Uri.EscapeDataString(Number)}&to=%2B12125550147")).RootElement;
        Assert.False(decision.GetProperty("allowed").GetBoolean());

        foreach (var table in new[] { "subjects", "consent_events", "subject_requests", "subject_request_parts", "outbox_messages", "audit_entries", "policy_versions" })
        {
            Assert.Equal(0L, await host.Database.ScalarAsync<long>($"SELECT count(*) FROM {table} t WHERE t::text LIKE '%{Digits}%'"));
        }

        Assert.Equal(0L, await host.Database.ScalarAsync<long>("SELECT count(*) FROM subject_requests WHERE number_hash IS NOT NULL AND kind = 'erasure'"));
        var steps = await host.Database.ScalarAsync<long>("SELECT count(*) FROM audit_entries WHERE kind = 'request.step'");
        Assert.Equal(3L, steps); // requested, service-completed, completed
        var verify = JsonDocument.Parse(await officer.GetStringAsync("/api/compliance/audit/verify")).RootElement;
        Assert.True(verify.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task An_export_bundles_every_services_part_as_one_json_document()
    {
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure, null, ComplianceOnly);
        using var officer = host.CreateClient();
        await GiveAsync(officer, "recording");

        var request = await CreateAsync(officer, "export");
        await UntilCompletedAsync(officer, request);

        var bundle = JsonDocument.Parse(await officer.GetStringAsync($"/api/compliance/requests/{request}/bundle")).RootElement;
        Assert.Equal("voicekraliki-data-export/1", bundle.GetProperty("format").GetString());
        var compliance = bundle.GetProperty("services").GetProperty("compliance");
        Assert.Equal(Number, compliance.GetProperty("phoneNumber").GetString());
        Assert.Equal("recording", compliance.GetProperty("consents").GetProperty("events")[0].GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_request_about_to_miss_its_deadline_is_reported_once_naming_who_has_not_answered()
    {
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure, null,
            ("Compliance:Requests:ErasureServices", "compliance,billing-archive"),
            ("Compliance:Requests:Deadline", "01:00:00"),
            ("Compliance:Requests:AtRiskBefore", "00:59:59.9990000"),
            ("Compliance:Requests:CheckInterval", "00:00:00.200"));
        using var officer = host.CreateClient();

        var request = await CreateAsync(officer, "erasure");

        await Wait.Until(async () => await host.Database.ScalarAsync<long>(
            "SELECT count(*) FROM outbox_messages WHERE type = 'DataSubjectRequestEndangered' AND published_at IS NOT NULL") == 1);
        var payload = JsonDocument.Parse(await host.Database.ScalarAsync<string>(
            "SELECT payload::text FROM outbox_messages WHERE type = 'DataSubjectRequestEndangered'")).RootElement;
        Assert.Equal(request, payload.GetProperty("requestId").GetGuid());
        // Compliance's own part may or may not have answered by then; the archive never does.
        Assert.Contains("billing-archive", payload.GetProperty("pendingServices").EnumerateArray().Select(s => s.GetString()));
        await Task.Delay(1000);
        Assert.Equal(1L, await host.Database.ScalarAsync<long>("SELECT count(*) FROM outbox_messages WHERE type = 'DataSubjectRequestEndangered'"));
        var status = JsonDocument.Parse(await officer.GetStringAsync($"/api/compliance/requests/{request}")).RootElement;
        Assert.Equal("pending", status.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("""{"kind":"erasure","phoneNumber":"0301234567"}""", "phoneNumber")]
    [InlineData("""{"kind":"forget-me","phoneNumber":"+4930901829"}""", "kind")]
    [InlineData("""{"phoneNumber":"+4930901829"}""", "kind")]
    public async Task A_bad_request_is_a_400_naming_the_field(string body, string field)
    {
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure);
        using var officer = host.CreateClient();

        var response = await officer.PostAsync("/api/compliance/requests", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors").TryGetProperty(field, out _));
        Assert.Equal(HttpStatusCode.NotFound, (await officer.GetAsync($"/api/compliance/requests/{Guid.NewGuid()}")).StatusCode);
        using var service = host.CreateClient(ComplianceServiceHost.ServiceApiKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await service.PostAsync("/api/compliance/requests", new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode);
    }

    private static async Task GiveAsync(HttpClient officer, string type)
    {
        var response = await officer.PostAsJsonAsync("/api/compliance/consents", new
        {
            phoneNumber = Number, type, method = "verbal", purpose = "test", evidence = new { callId = "CA1" },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static async Task<Guid> CreateAsync(HttpClient officer, string kind)
    {
        var response = await officer.PostAsJsonAsync("/api/compliance/requests", new { kind, phoneNumber = Number });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        var created = JsonDocument.Parse(body).RootElement;
        Assert.Equal("pending", created.GetProperty("status").GetString());
        Assert.Equal("+******1829", created.GetProperty("number").GetString());
        return created.GetProperty("id").GetGuid();
    }

    private static async Task<JsonElement> UntilCompletedAsync(HttpClient officer, Guid request)
    {
        JsonElement status = default;
        await Wait.Until(async () =>
        {
            status = JsonDocument.Parse(await officer.GetStringAsync($"/api/compliance/requests/{request}")).RootElement;
            return status.GetProperty("status").GetString() == "completed";
        });
        return status;
    }
}
