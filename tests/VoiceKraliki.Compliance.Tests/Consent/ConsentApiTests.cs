using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using VoiceKraliki.Compliance.Tests.Support;

namespace VoiceKraliki.Compliance.Tests.Consent;

/// <summary>
/// Consent and decisions through the real service on real Postgres, Redis and RabbitMQ: give, decide, withdraw,
/// decide again, with the decision cache in the way; receipts; and bad input.
/// </summary>
[Collection(ComplianceInfrastructureCollection.Name)]
public sealed class ConsentApiTests(ComplianceInfrastructure infrastructure)
{
    // Berlin (GDPR: explicit consent) calls New York (one-party): only the Berlin party needs consent.
    private const string Berlin = "+4930901820";
    private const string NewYork = "+12125550147";

    private static string Decision(string from, string to, string purpose = "recording") =>
        $"/api/compliance/decisions/{purpose}?from={Uri.EscapeDataString(from)}&to={Uri.EscapeDataString(to)}";

    private static object Given(string number, string type = "recording") => new
    {
        phoneNumber = number,
        type,
        action = "given",
        method = "ivr_keypress",
        evidence = new { callId = "CA0123456789abcdef0123456789abcdef", digits = "1" },
        purpose = "Call recording for quality assurance",
    };

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode} instead of {(int)expected}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<JsonElement> DecideAsync(HttpClient client, string from, string to) =>
        await JsonAsync(await client.GetAsync(Decision(from, to)), HttpStatusCode.OK);

    [Fact]
    public async Task Give_decide_withdraw_decide_and_the_cache_never_serves_the_stale_answer()
    {
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure);
        using var officer = host.CreateClient();
        using var service = host.CreateClient(ComplianceServiceHost.ServiceApiKey);

        var before = await DecideAsync(service, Berlin, NewYork);
        Assert.False(before.GetProperty("allowed").GetBoolean());
        Assert.Equal("explicit_consent", before.GetProperty("parties")[0].GetProperty("rule").GetString());
        Assert.True((await DecideAsync(service, Berlin, NewYork)).GetProperty("cached").GetBoolean());

        var given = await JsonAsync(await officer.PostAsJsonAsync("/api/compliance/consents", Given(Berlin)), HttpStatusCode.Created);
        var allowed = await DecideAsync(service, Berlin, NewYork);
        Assert.True(allowed.GetProperty("allowed").GetBoolean(), allowed.ToString());
        Assert.Equal(given.GetProperty("id").GetGuid(), allowed.GetProperty("parties")[0].GetProperty("consentEventId").GetGuid());
        Assert.True(allowed.GetProperty("announcementRequired").GetBoolean());

        var withdrawal = await JsonAsync(
            await officer.PostAsJsonAsync("/api/compliance/consents/withdrawals", new { phoneNumber = Berlin, method = "verbal" }), HttpStatusCode.OK);
        Assert.Equal("recording", withdrawal.GetProperty("withdrawn")[0].GetProperty("type").GetString());
        var after = await DecideAsync(service, Berlin, NewYork);
        Assert.False(after.GetProperty("allowed").GetBoolean(), after.ToString());

        // While decisions are asked for (and cached) all the time, every change is seen by the first decision after it.
        using var stop = new CancellationTokenSource();
        var hammer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                (await service.GetAsync(Decision(Berlin, NewYork))).EnsureSuccessStatusCode();
            }
        });
        for (var round = 0; round < 10; round++)
        {
            await JsonAsync(await officer.PostAsJsonAsync("/api/compliance/consents", Given(Berlin)), HttpStatusCode.Created);
            Assert.True((await DecideAsync(service, Berlin, NewYork)).GetProperty("allowed").GetBoolean(), $"round {round}: stale denial");
            await JsonAsync(await officer.PostAsJsonAsync("/api/compliance/consents/withdrawals",
                new { phoneNumber = Berlin, types = new[] { "recording" }, method = "web_form" }), HttpStatusCode.OK);
            Assert.False((await DecideAsync(service, Berlin, NewYork)).GetProperty("allowed").GetBoolean(), $"round {round}: stale permission");
        }

        await stop.CancelAsync();
        await hammer;

        // Every change went to the bus through the outbox (22 events), and consents and decisions are in the audit log.
        await Wait.Until(async () => await host.Database.ScalarAsync<long>(
            "SELECT count(*) FROM outbox_messages WHERE type = 'ConsentChanged' AND published_at IS NOT NULL") == 22);
        Assert.Equal(11L, await host.Database.ScalarAsync<long>("SELECT count(*) FROM audit_entries WHERE kind = 'consent.given'"));
        Assert.Equal(11L, await host.Database.ScalarAsync<long>("SELECT count(*) FROM audit_entries WHERE kind = 'consent.withdrawn'"));
        Assert.True(await host.Database.ScalarAsync<long>("SELECT count(*) FROM audit_entries WHERE kind = 'decision'") >= 24);
        var verify = await JsonAsync(await officer.GetAsync("/api/compliance/audit/verify"), HttpStatusCode.OK);
        Assert.True(verify.GetProperty("ok").GetBoolean(), verify.ToString());
    }

    [Fact]
    public async Task The_state_lists_every_type_and_event_and_a_receipt_names_the_method_purpose_and_masked_principal()
    {
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure);
        using var officer = host.CreateClient();
        var expires = DateTimeOffset.UtcNow.AddDays(30);
        var body = new
        {
            phoneNumber = "+14155550123",
            type = "ai_processing",
            method = "verbal",
            evidence = new { callId = "CA00000000000000000000000000000001", recording = "agent asked, caller said yes" },
            purpose = "AI voice agent",
            expiresAt = expires,
        };
        var given = await JsonAsync(await officer.PostAsJsonAsync("/api/compliance/consents", body), HttpStatusCode.Created);
        Assert.Equal("+*******0123", given.GetProperty("number").GetString());
        Assert.Equal("US-CA", given.GetProperty("jurisdiction").GetString());

        var state = await JsonAsync(await officer.GetAsync("/api/compliance/consents?phoneNumber=%2B14155550123"), HttpStatusCode.OK);
        var current = state.GetProperty("current").EnumerateArray().ToDictionary(c => c.GetProperty("type").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("given", current["ai_processing"]);
        Assert.Equal("none", current["recording"]);
        Assert.Equal(6, current.Count);
        Assert.Single(state.GetProperty("events").EnumerateArray());

        var receipt = await JsonAsync(await officer.GetAsync($"/api/compliance/consents/events/{given.GetProperty("id").GetGuid()}/receipt"), HttpStatusCode.OK);
        Assert.Equal("KI-CR-v1.1.0", receipt.GetProperty("version").GetString());
        Assert.Equal("+*******0123", receipt.GetProperty("piiPrincipalId").GetString());
        Assert.Equal("verbal", receipt.GetProperty("collectionMethod").GetString());
        var purpose = receipt.GetProperty("services")[0].GetProperty("purposes")[0];
        Assert.Equal("AI voice agent", purpose.GetProperty("purposeText").GetString());
        Assert.StartsWith("expires at", purpose.GetProperty("termination").GetString());

        // The number itself is nowhere in the database: only its keyed hash and its last four digits.
        Assert.Equal(0L, await host.Database.ScalarAsync<long>(
            "SELECT count(*) FROM subjects s JOIN consent_events e USING (subject_id) WHERE s::text LIKE '%4155550123%' OR e::text LIKE '%4155550123%'"));
        Assert.Equal(0L, await host.Database.ScalarAsync<long>("SELECT count(*) FROM audit_entries a WHERE a::text LIKE '%4155550123%'"));
        Assert.Equal(0L, await host.Database.ScalarAsync<long>("SELECT count(*) FROM outbox_messages o WHERE o::text LIKE '%4155550123%'"));

        // Unknown to the service: 404, not an empty 200.
        using var service = host.CreateClient(ComplianceServiceHost.ServiceApiKey);
        Assert.Equal(HttpStatusCode.NotFound, (await service.GetAsync("/api/compliance/consents?phoneNumber=%2B14155550999")).StatusCode);
    }

    public static TheoryData<string, string, int, string> BadRequests => new()
    {
        { "POST", """{"phoneNumber":"4155550123","type":"recording","method":"verbal","purpose":"x"}""", 400, "phoneNumber" },
        { "POST", """{"phoneNumber":"+1 415 555 0123","type":"recording","method":"verbal","purpose":"x"}""", 400, "phoneNumber" },
        { "POST", """{"phoneNumber":"+2812345678","type":"recording","method":"verbal","purpose":"x"}""", 400, "phoneNumber" },
        { "POST", """{"phoneNumber":"+14155550123","type":"telepathy","method":"verbal","purpose":"x"}""", 400, "type" },
        { "POST", """{"phoneNumber":"+14155550123","type":"recording","method":"smoke_signal","purpose":"x"}""", 400, "method" },
        { "POST", """{"phoneNumber":"+14155550123","type":"recording","action":"maybe","method":"verbal","purpose":"x"}""", 400, "action" },
        { "POST", """{"phoneNumber":"+14155550123","type":"recording","method":"verbal"}""", 400, "purpose" },
        { "POST", """{"phoneNumber":"+14155550123","type":"recording","method":"verbal","purpose":"x","evidence":"pressed 1"}""", 400, "evidence" },
        { "POST", """{"phoneNumber":"+14155550123","type":"recording","method":"verbal","purpose":"x","expiresAt":"2020-01-01T00:00:00Z"}""", 422, "expiresAt" },
        { "POST", """{"phoneNumber":"+14155550123","type":"recording","action":"withdrawn","method":"verbal","purpose":"x","expiresAt":"2099-01-01T00:00:00Z"}""", 400, "expiresAt" },
        { "POST", "{\"phoneNumber\":\"+14155550123\",\"type\":\"recording\",\"method\":\"verbal\",\"purpose\":\"x\",\"evidence\":{\"blob\":\"" + new string('a', 5000) + "\"}}", 422, "evidence" },
        { "POST", """{"phoneNumber":"+14155550123","type":"recording","method":"verbal","purpose":"x","expiresAt":"next tuesday"}""", 400, "" },
        { "POST", """{"phoneNumber":""", 400, "" },
        { "WITHDRAW", """{"phoneNumber":"+14155550123","types":["recording","telepathy"],"method":"verbal"}""", 400, "types" },
        { "WITHDRAW", """{"phoneNumber":"nope","method":"verbal"}""", 400, "phoneNumber" },
        { "STATE", "phoneNumber=123", 400, "phoneNumber" },
        { "STATE", "", 400, "phoneNumber" },
        { "DECIDE", "from=%2B4930901820&to=banana", 400, "to" },
        { "DECIDE", "to=%2B4930901820", 400, "from" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_answered_with_problem_details_naming_the_field_never_a_500(string kind, string input, int status, string field)
    {
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure);
        using var officer = host.CreateClient();
        var response = kind switch
        {
            "POST" => await officer.PostAsync("/api/compliance/consents", new StringContent(input, Encoding.UTF8, "application/json")),
            "WITHDRAW" => await officer.PostAsync("/api/compliance/consents/withdrawals", new StringContent(input, Encoding.UTF8, "application/json")),
            "STATE" => await officer.GetAsync("/api/compliance/consents?" + input),
            _ => await officer.GetAsync("/api/compliance/decisions/recording?" + input),
        };

        var body = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field.Length > 0)
        {
            Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("errors").TryGetProperty(field, out _), body);
        }
    }

    [Fact]
    public async Task Roles_are_enforced_officers_write_services_read_operators_neither()
    {
        await using var host = await ComplianceServiceHost.StartAsync(infrastructure);
        using var anonymous = host.CreateClient(apiKey: null);
        using var operatorClient = host.CreateClient(ComplianceInfrastructure.OperatorApiKey);
        using var service = host.CreateClient(ComplianceServiceHost.ServiceApiKey);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/compliance/consents", Given(Berlin))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.PostAsJsonAsync("/api/compliance/consents", Given(Berlin))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await service.PostAsJsonAsync("/api/compliance/consents", Given(Berlin))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.GetAsync(Decision(Berlin, NewYork))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await service.GetAsync(Decision(Berlin, NewYork))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await service.GetAsync($"/api/compliance/consents/events/{Guid.NewGuid()}/receipt")).StatusCode);
    }
}
