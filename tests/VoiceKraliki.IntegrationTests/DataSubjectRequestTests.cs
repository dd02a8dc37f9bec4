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

    private readonly ProviderWebhooks _webhooks = new(system.Gateway);

    /// <summary>A New York number of this run only, so no other test's data can hold it.</summary>
    private static string NewSubject() => "+1212" + Random.Shared.Next(2_000_000, 9_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task An_erasure_reaches_every_service_and_afterwards_no_row_or_recording_holds_the_number()
    {
        var subject = NewSubject();
        using var api = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        var callSid = await CallAsync(api, subject);
        await RecordAsync(callSid, subject);
        await GiveConsentAsync(api, subject);
        Assert.NotEmpty(RecordingFiles(callSid));
        Assert.True(await RowsHoldingAsync("postgres-call-state", subject) > 0);

        var request = await RequestAsync(api, "erasure", subject);
        var done = await UntilCompletedAsync(api, request);

        Assert.Equal(["call-state", "compliance", "media-bridge"], done.GetProperty("parts").EnumerateArray().Select(p => p.GetProperty("service").GetString()));
        var call = JsonDocument.Parse(await api.GetStringAsync("/api/calls/" + callSid)).RootElement;
        Assert.Equal("+*******" + subject[^4..], call.GetProperty("from").GetString());
        Assert.Equal(Dallas, call.GetProperty("to").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/compliance/consents?phoneNumber=" + Uri.EscapeDataString(subject))).StatusCode);
        Assert.Empty(RecordingFiles(callSid));
        Assert.Equal(0, await RowsHoldingAsync("postgres-call-state", subject));
        Assert.Equal(0, await RowsHoldingAsync("postgres-compliance", subject));
    }

    [Fact]
    public async Task An_export_bundles_the_subjects_consents_and_calls_from_every_service()
    {
        var subject = NewSubject();
        using var api = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        var callSid = await CallAsync(api, subject);
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

    /// <summary>A completed Twilio call from the subject, through four signed webhooks.</summary>
    private async Task<string> CallAsync(HttpClient api, string from)
    {
        using var provider = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var callSid = ProviderWebhooks.NewCallSid();
        var sequence = 0;
        foreach (var (status, state) in new[] { ("initiated", "Initiated"), ("ringing", "Ringing"), ("in-progress", "Answered"), ("completed", "Completed") })
        {
            using var response = await provider.SendAsync(_webhooks.TwilioRequest("/webhooks/twilio/status", [
                new("AccountSid", "AC00000000000000000000000000000001"), new("ApiVersion", "2010-04-01"), new("CallSid", callSid),
                new("CallStatus", status), new("Direction", "inbound"), new("From", from), new("To", Dallas),
                new("SequenceNumber", (++sequence).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("Timestamp", DateTimeOffset.UtcNow.ToString("r")), new("CallbackSource", "call-progress-events")]));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            await Eventually(async () =>
            {
                using var found = await api.GetAsync("/api/calls/" + callSid);
                return found.IsSuccessStatusCode
                       && JsonDocument.Parse(await found.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString() == state;
            }, $"call {callSid} to reach {state}");
        }

        return callSid;
    }

    /// <summary>Two seconds of the call's media stream, recorded (both numbers are in US one-party states).</summary>
    private async Task RecordAsync(string callSid, string from)
    {
        var parameters = new Dictionary<string, string>
        {
            ["callSid"] = callSid,
            ["from"] = from,
            ["to"] = Dallas,
            ["token"] = new StreamTokenService(SystemFixture.StreamTokenKey, TimeProvider.System)
                .Issue(TelephonyProvider.Twilio, callSid, null, TimeSpan.FromMinutes(5)),
        };
        await using (var client = await TwilioMediaClient.ConnectAsync(system.Gateway, callSid))
        {
            await client.StartAsync(parameters);
            await client.StreamAsync(Enumerable.Repeat((byte)0xFF, 2 * 8000).ToArray());
            await client.StopAsync();
        }

        await Eventually(() => Task.FromResult(RecordingFiles(callSid).Any(f => f.EndsWith(".wav", StringComparison.Ordinal))), $"a recording of {callSid}");
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
        await Eventually(async () =>
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
        await using var connection = new NpgsqlConnection(system.App.GetConnectionString(database));
        await connection.OpenAsync();
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

    private string[] RecordingFiles(string callSid) =>
        [.. Directory.EnumerateFiles(system.RecordingDirectory, $"*{callSid}*", SearchOption.AllDirectories)];

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(45))
            {
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}");
            }

            await Task.Delay(200);
        }
    }
}
