using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using VoiceKraliki.Contracts;
using VoiceKraliki.IntegrationTests.Support;
using VoiceKraliki.Telephony.Media;
using Xunit.Abstractions;

namespace VoiceKraliki.IntegrationTests;

/// <summary>
/// Data-subject requests across the whole system: an erasure reaches compliance, call-state and media-bridge and
/// afterwards no row of either database and no recording holds the number; an export bundles compliance's and
/// call-state's parts.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DataSubjectRequestTests(SystemFixture system, ITestOutputHelper output)
{
    private const string Dallas = "+12145550100";

    private readonly SystemCalls _calls = new(system);

    /// <summary>A New York number of this run only, so no other test's data can hold it.</summary>
    private static string NewSubject() => "+1212" + Random.Shared.Next(2_000_000, 9_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task An_erasure_reaches_every_service_and_afterwards_no_row_or_recording_holds_the_number()
    {
        var subject = NewSubject();
        using var api = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        var callSid = await _calls.CompletedAsync(api, subject, Dallas);
        await _calls.RecordAsync(callSid, subject, Dallas);
        await GiveConsentAsync(api, subject);
        Assert.NotEmpty(_calls.RecordingFiles(callSid));
        Assert.True(await RowsHoldingAsync("postgres-call-state", subject) > 0);

        var request = await RequestAsync(api, "erasure", subject);
        var done = await UntilCompletedAsync(api, request);

        Assert.Equal(["call-state", "compliance", "media-bridge"], done.GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("service").GetString()));
        var call = JsonDocument.Parse(await api.GetStringAsync("/api/calls/" + callSid)).RootElement;
        Assert.Equal("+*******" + subject[^4..], call.GetProperty("from").GetString());
        Assert.Equal(Dallas, call.GetProperty("to").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/compliance/consents?phoneNumber=" + Uri.EscapeDataString(subject))).StatusCode);
        Assert.Empty(_calls.RecordingFiles(callSid));
        Assert.Equal(0, await RowsHoldingAsync("postgres-call-state", subject));
        Assert.Equal(0, await RowsHoldingAsync("postgres-compliance", subject));
    }

    [Fact]
    public async Task An_export_bundles_the_subjects_consents_and_calls_from_every_service()
    {
        var subject = NewSubject();
        using var api = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        var callSid = await _calls.CompletedAsync(api, subject, Dallas);
        await GiveConsentAsync(api, subject);

        var request = await RequestAsync(api, "export", subject);
        await UntilCompletedAsync(api, request);

        var bundle = JsonDocument.Parse(await api.GetStringAsync($"/api/compliance/requests/{request}/bundle")).RootElement;
        var services = bundle.GetProperty("services");
        Assert.Equal("recording", services.GetProperty("compliance").GetProperty("consents").GetProperty("events")[0].GetProperty("type").GetString());
        var calls = services.GetProperty("call-state").GetProperty("calls");
        Assert.Equal(callSid, Assert.Single(calls.EnumerateArray()).GetProperty("providerCallId").GetString());
        Assert.Equal(4, calls[0].GetProperty("history").GetArrayLength());
    }

    private static async Task GiveConsentAsync(HttpClient api, string number)
    {
        using var response = await api.PostAsJsonAsync("/api/compliance/consents", new
        {
            phoneNumber = number, type = "recording", method = "ivr_keypress", purpose = "quality assurance", evidence = new { digits = "1" },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static async Task<Guid> RequestAsync(HttpClient api, string kind, string number)
    {
        using var response = await api.PostAsJsonAsync("/api/compliance/requests", new { kind, phoneNumber = number });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetGuid();
    }

    private async Task<JsonElement> UntilCompletedAsync(HttpClient api, Guid request)
    {
        JsonElement status = default;
        var watch = Stopwatch.StartNew();
        await SystemCalls.Eventually(async () =>
        {
            status = JsonDocument.Parse(await api.GetStringAsync($"/api/compliance/requests/{request}")).RootElement.Clone();
            return status.GetProperty("status").GetString() == "completed";
        }, $"request {request} to complete");
        output.WriteLine($"request completed by every service in {watch.Elapsed.TotalSeconds:F1} s: {status}");
        return status;
    }

    /// <summary>Rows of any table of the service's database whose text holds the number's digits.</summary>
    private async Task<long> RowsHoldingAsync(string database, string number)
    {
        await using var connection = await system.OpenDatabaseAsync(database);
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand("SELECT tablename FROM pg_tables WHERE schemaname = 'public'", connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }
        }

        long total = 0;
        foreach (var table in tables)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM \"{table}\" t WHERE t::text LIKE $1", connection);
            count.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "%" + number[1..] + "%" });
            var rows = (long)(await count.ExecuteScalarAsync())!;
            if (rows > 0)
            {
                output.WriteLine($"{database}.{table}: {rows} row(s) hold the number");
            }

            total += rows;
        }

        return total;
    }
}
