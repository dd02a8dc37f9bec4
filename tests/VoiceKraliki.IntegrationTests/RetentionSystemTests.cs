using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using VoiceKraliki.IntegrationTests.Support;
using Xunit.Abstractions;

namespace VoiceKraliki.IntegrationTests;

/// <summary>
/// Retention enforced across the whole system. The calls are old because the provider says so (Twilio's
/// <c>Timestamp</c> of each status callback), so a sweep as of now finds them past their policy: compliance sends
/// them to call-state and media-bridge, which delete or anonymize and confirm; the sweep reports it, and a second
/// sweep finds nothing.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class RetentionSystemTests(SystemFixture system, ITestOutputHelper output)
{
    private const string Dallas = "+12145550100";
    private const string NewYork = "+12125550147";

    private readonly SystemCalls _calls = new(system);

    [Fact]
    public async Task A_sweep_deletes_and_anonymizes_past_policy_data_in_call_state_and_media_bridge_and_a_second_finds_nothing()
    {
        using var api = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        var now = DateTimeOffset.UtcNow;
        var berlin = "+49309" + Random.Shared.Next(1_000_000, 9_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

        // US parties, 400 days ago, recorded: the recording is past the US's 365 days; the call record (7 years) is not.
        var recorded = await _calls.CompletedAsync(api, Dallas, NewYork, now.AddDays(-400));
        await _calls.RecordAsync(recorded, Dallas, NewYork);
        // A Berlin party, 400 days ago: the EU keeps call records a year, then anonymized.
        var european = await _calls.CompletedAsync(api, berlin, Dallas, now.AddDays(-400));
        // US parties, eight years ago: the call record is past seven years and is deleted.
        var ancient = await _calls.CompletedAsync(api, Dallas, NewYork, now.AddDays(-2920));
        // A call of today: nothing of it is due.
        var today = await _calls.CompletedAsync(api, Dallas, NewYork);
        await _calls.RecordAsync(today, Dallas, NewYork);
        await UntilInventoriedAsync(recorded, european, ancient, today);

        var plan = JsonDocument.Parse(await api.GetStringAsync("/api/compliance/retention/report?limit=1000")).RootElement;
        var planned = plan.GetProperty("items").EnumerateArray().Select(i => $"{i.GetProperty("providerCallId").GetString()} {i.GetProperty("category").GetString()} {i.GetProperty("action").GetString()}").ToHashSet();
        Assert.Subset(planned, new HashSet<string> { $"{recorded} recording delete", $"{european} call_metadata anonymize", $"{ancient} call_metadata delete" });
        Assert.DoesNotContain(planned, p => p.StartsWith(today, StringComparison.Ordinal));

        var sweep = await SweepAsync(api);
        Assert.True(sweep.GetProperty("found").GetInt32() >= 3);
        Assert.Equal(sweep.GetProperty("found").GetInt32(), sweep.GetProperty("enforced").GetInt32());

        // media-bridge deleted the old call's recording, and only that one.
        Assert.Empty(_calls.RecordingFiles(recorded));
        Assert.NotEmpty(_calls.RecordingFiles(today));
        // call-state anonymized the European call, deleted the ancient one, and kept the rest.
        var europeanCall = JsonDocument.Parse(await api.GetStringAsync("/api/calls/" + european)).RootElement;
        Assert.DoesNotContain(berlin[1..], europeanCall.GetRawText(), StringComparison.Ordinal);
        Assert.Equal("Completed", europeanCall.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await api.GetAsync("/api/calls/" + ancient)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/calls/" + recorded)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/calls/" + today)).StatusCode);
        Assert.Equal(0L, await CountAsync("postgres-call-state", "SELECT count(*) FROM calls c WHERE c::text LIKE $1", "%" + berlin[1..] + "%"));
        Assert.Equal(0L, await CountAsync("postgres-call-state", "SELECT count(*) FROM call_transitions WHERE call_id = $1", ancient));

        // Every deletion and anonymization is in the audit log, by the service that did it, and the log verifies.
        Assert.Equal(1L, await CountAsync("postgres-compliance",
            "SELECT count(*) FROM audit_entries WHERE kind = 'retention.deleted' AND actor = 'media-bridge' AND details->>'call' = $1", recorded));
        Assert.Equal(1L, await CountAsync("postgres-compliance",
            "SELECT count(*) FROM audit_entries WHERE kind = 'retention.anonymized' AND actor = 'call-state' AND details->>'call' = $1", european));
        Assert.Equal(1L, await CountAsync("postgres-compliance",
            "SELECT count(*) FROM audit_entries WHERE kind = 'retention.deleted' AND actor = 'call-state' AND details->>'call' = $1", ancient));
        Assert.True(JsonDocument.Parse(await api.GetStringAsync("/api/compliance/audit/verify")).RootElement.GetProperty("ok").GetBoolean());

        var again = await SweepAsync(api);
        Assert.Equal(0, again.GetProperty("found").GetInt32());
        Assert.Equal(0, JsonDocument.Parse(await api.GetStringAsync("/api/compliance/retention/report")).RootElement.GetProperty("due").GetInt32());
    }

    private async Task<JsonElement> SweepAsync(HttpClient api)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var response = await api.PostAsJsonAsync("/api/compliance/retention/sweeps", new { });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var location = response.Headers.Location!;
        JsonElement sweep = default;
        await SystemCalls.Eventually(async () =>
        {
            sweep = JsonDocument.Parse(await api.GetStringAsync(location)).RootElement.Clone();
            return sweep.GetProperty("status").GetString() is "completed" or "failed";
        }, "the sweep to complete");
        Assert.Equal("completed", sweep.GetProperty("status").GetString());
        output.WriteLine($"sweep of {sweep.GetProperty("found").GetInt32()} item(s) completed by every holder in {watch.Elapsed.TotalSeconds:F2} s: {sweep}");
        return sweep;
    }

    /// <summary>Compliance has taken in every call event and stream of these calls (its inventory is fed by the bus).</summary>
    private Task UntilInventoriedAsync(params string[] calls) => SystemCalls.Eventually(async () =>
        await CountAsync("postgres-compliance", "SELECT count(*) FROM retention_calls WHERE provider_call_id = ANY($1) AND ended_at IS NOT NULL", calls) == calls.Length
        && await CountAsync("postgres-compliance", "SELECT count(*) FROM retention_items WHERE provider_call_id = ANY($1)", calls) == calls.Length + 2,
        "compliance's retention inventory of the calls");

    private async Task<long> CountAsync<T>(string database, string sql, T parameter)
    {
        await using var connection = await system.OpenDatabaseAsync(database);
        await using var count = new NpgsqlCommand(sql, connection);
        count.Parameters.Add(new NpgsqlParameter<T> { TypedValue = parameter });
        return (long)(await count.ExecuteScalarAsync())!;
    }
}
