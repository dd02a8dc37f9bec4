using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.CallState.Events;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Redis;
using Xunit.Abstractions;
using static VoiceKraliki.CallState.Tests.Apis.TestCalls;

namespace VoiceKraliki.CallState.Tests.Cache;

/// <summary>The Redis fast tier of the real service on the real Redis, which one test stops and starts.</summary>
[Collection(CallStateInfrastructureCollection.Name)]
public sealed class CallCacheTests(CallStateInfrastructure infrastructure, ITestOutputHelper output)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task After_each_commit_Redis_holds_the_snapshot_the_live_sets_and_the_session_maps_and_an_ended_call_leaves_the_live_sets()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await WaitUntilServingAsync(host);
        var redis = host.Services.GetRequiredService<IRedisStore>();
        var queries = host.Services.GetRequiredService<CallQueries>();
        var callId = "v3:" + Tag();
        var session = "session-" + Tag();
        var t = Now();

        await host.ProcessAllAsync(
        [
            Event(callId, CallStatus.Initiated, t, sessionId: session),
            Event(callId, CallStatus.Ringing, t.AddSeconds(1), sessionId: session),
        ]);

        var ringing = await SnapshotAsync(redis, callId);
        Assert.Equal(await queries.FindAsync(callId, None), ringing);
        Assert.Equal(CallStatus.Ringing, ringing!.Status);
        Assert.Contains(callId, await redis.SetMembersAsync("call-state:active:telnyx"));
        Assert.Contains(callId, await redis.SetMembersAsync("call-state:session:" + session));
        Assert.Equal(session, await redis.GetAsync("call-state:call-session:" + callId));
        var ringingVersion = long.Parse(await redis.GetAsync("call-state:call:" + callId) ?? "0", System.Globalization.CultureInfo.InvariantCulture);

        await host.ProcessAllAsync([Event(callId, CallStatus.Completed, t.AddSeconds(5), sessionId: session)]);

        var ended = await SnapshotAsync(redis, callId);
        Assert.Equal(await queries.FindAsync(callId, None), ended);
        Assert.Equal(CallStatus.Completed, ended!.Status);
        Assert.True(long.Parse(await redis.GetAsync("call-state:call:" + callId) ?? "0", System.Globalization.CultureInfo.InvariantCulture) > ringingVersion);
        Assert.Null(await redis.GetAsync($"call-state:snapshot:{callId}:{ringingVersion}"));
        Assert.DoesNotContain(callId, await redis.SetMembersAsync("call-state:active:telnyx"));
        Assert.DoesNotContain(callId, await redis.SetMembersAsync("call-state:session:" + session));

        // The API answers from Redis what Postgres holds.
        using var client = host.CreateClient();
        Assert.Equal(ended, await GetAsync<CallView>(client, Path(callId)));
    }

    [Fact]
    public async Task A_late_write_of_an_older_version_never_undoes_a_newer_one()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await WaitUntilServingAsync(host);
        var cache = host.Services.GetRequiredService<CallCache>();
        var redis = host.Services.GetRequiredService<IRedisStore>();
        var t = CallView.Utc(Now());
        var callId = "v3:" + Tag();
        var session = "session-" + Tag();
        var answered = new CallView(callId, session, TelephonyProvider.Telnyx, CallDirection.Outbound, CallStatus.Answered, CallEndReason.None,
            "+420600000001", "+420600000002", t, t.AddSeconds(3), t.AddSeconds(3), null, 2, null, null, null);
        var completed = answered with { Status = CallStatus.Completed, EndReason = CallEndReason.Normal, UpdatedAt = t.AddSeconds(9), EndedAt = t.AddSeconds(9), AppliedTransitions = 3 };

        // The hangup's write lands first, the answer's (an older commit) after it.
        await cache.WriteAsync(completed, 900_000_002, None);
        await cache.WriteAsync(answered, 900_000_001, None);

        Assert.Equal(Version(completed, 900_000_002), await redis.GetAsync("call-state:call:" + callId));
        Assert.Equal(completed, await SnapshotAsync(redis, callId));
        Assert.Null(await redis.GetAsync($"call-state:snapshot:{callId}:{Version(answered, 900_000_001)}"));
        Assert.DoesNotContain(callId, await redis.SetMembersAsync("call-state:active:telnyx"));
        Assert.DoesNotContain(callId, await redis.SetMembersAsync("call-state:session:" + session));

        // In order, the same two writes end the same way.
        var other = "v3:" + Tag();
        await cache.WriteAsync(answered with { ProviderCallId = other }, 900_000_001, None);
        Assert.Contains(other, await redis.SetMembersAsync("call-state:active:telnyx"));
        await cache.WriteAsync(completed with { ProviderCallId = other }, 900_000_002, None);
        Assert.DoesNotContain(other, await redis.SetMembersAsync("call-state:active:telnyx"));
        Assert.Null(await redis.GetAsync($"call-state:snapshot:{other}:{Version(answered, 900_000_001)}"));
    }

    [Fact]
    public async Task A_stuck_flag_is_not_hidden_by_its_own_commits_write_landing_after_it_and_the_next_transition_clears_it()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await WaitUntilServingAsync(host);
        var cache = host.Services.GetRequiredService<CallCache>();
        var redis = host.Services.GetRequiredService<IRedisStore>();
        var t = CallView.Utc(Now());
        var callId = "v3:" + Tag();
        var ringing = new CallView(callId, null, TelephonyProvider.Telnyx, CallDirection.Outbound, CallStatus.Ringing, CallEndReason.None,
            "+420600000001", "+420600000002", t, t, null, null, 1, null, null, null);
        var flagged = ringing with { StuckSince = t.AddMinutes(2) };

        // The detector flagged the call and refreshed Redis before the commit's own write (same transition) landed.
        await cache.WriteAsync(flagged, 900_000_010, None);
        await cache.WriteAsync(ringing, 900_000_010, None);
        Assert.Equal(flagged, await SnapshotAsync(redis, callId));

        // The call moves on: the next transition's snapshot, unflagged, replaces the flagged one.
        var answered = ringing with { Status = CallStatus.Answered, UpdatedAt = t.AddMinutes(3), AnsweredAt = t.AddMinutes(3), AppliedTransitions = 2 };
        await cache.WriteAsync(answered, 900_000_011, None);
        Assert.Equal(answered, await SnapshotAsync(redis, callId));
    }

    private static string Version(CallView call, long transition) =>
        CallCache.SnapshotVersion(call, transition).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task With_Redis_down_events_apply_reads_come_from_Postgres_health_is_degraded_and_once_it_is_back_the_live_set_is_right_again()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await host.WaitUntilHealthyAsync();
        await WaitUntilServingAsync(host);
        var redis = host.Services.GetRequiredService<IRedisStore>();
        using var client = host.CreateClient();
        var tag = Tag();
        var t = Now();
        var endsDuringOutage = $"v3:{tag}-a-ends";
        var staysLive = $"v3:{tag}-b-stays";
        var startsDuringOutage = $"v3:{tag}-c-starts";
        await host.ProcessAllAsync(
        [
            .. Through(endsDuringOutage, t, CallStatus.Initiated, CallStatus.Answered),
            .. Through(staysLive, t, CallStatus.Initiated, CallStatus.Ringing),
        ]);
        Assert.Equal([endsDuringOutage, staysLive], await LiveInRedisAsync(redis, tag));

        await infrastructure.App.StopResourceAsync("redis");
        try
        {
            var watch = Stopwatch.StartNew();
            var results = await host.ProcessAllAsync(
            [
                Event(endsDuringOutage, CallStatus.Completed, t.AddSeconds(5)),
                .. Through(startsDuringOutage, t.AddSeconds(6), CallStatus.Initiated, CallStatus.Ringing),
                Event(staysLive, CallStatus.Answered, t.AddSeconds(7)),
            ]);
            output.WriteLine($"4 events applied in {watch.Elapsed.TotalMilliseconds:F0} ms with Redis down");
            Assert.All(results, r => Assert.Equal(CallEventOutcome.Applied, r.Outcome));
            // Bounded writes, then none at all for a while: Redis's absence costs at most one short timeout.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");

            Assert.Equal(CallStatus.Completed, (await GetAsync<CallView>(client, Path(endsDuringOutage))).Status);
            Assert.Equal(CallStatus.Answered, (await GetAsync<CallView>(client, Path(staysLive))).Status);
            var active = await GetJsonAsync(client, "/api/calls/active");
            Assert.Equal([staysLive, startsDuringOutage], Ours(active, tag));

            await Eventually(async () =>
            {
                using var response = await client.GetAsync("/health");
                var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
                return response.StatusCode == HttpStatusCode.OK && health.GetProperty("status").GetString() == "Degraded";
            }, seconds: 15, because: "/health did not answer 200 Degraded");
        }
        finally
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await infrastructure.App.StartResourceAsync("redis", timeout.Token);
        }

        var back = Stopwatch.StartNew();
        await Eventually(async () => (await LiveInRedisAsync(redis, tag)).SequenceEqual([staysLive, startsDuringOutage]), seconds: 15,
            because: "the live set in Redis was not corrected after Redis came back");
        await WaitUntilServingAsync(host, seconds: 15);
        output.WriteLine($"live set right again {back.Elapsed.TotalMilliseconds:F0} ms after Redis was back");

        Assert.Equal(CallStatus.Answered, (await SnapshotAsync(redis, staysLive))!.Status);
        Assert.Equal(CallStatus.Ringing, (await SnapshotAsync(redis, startsDuringOutage))!.Status);
        // Written as ended by the rebuild, since Redis still listed it as live.
        Assert.Equal(CallStatus.Completed, (await SnapshotAsync(redis, endsDuringOutage))!.Status);
        Assert.Equal([staysLive, startsDuringOutage], Ours(await GetJsonAsync(client, "/api/calls/active"), tag));
        await host.WaitUntilHealthyAsync();
    }

    private static List<string> Ours(JsonElement active, string tag) =>
        [.. active.GetProperty("items").EnumerateArray()
            .Select(c => c.GetProperty("providerCallId").GetString()!)
            .Where(id => id.Contains(tag, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];

    /// <summary>This test's calls in Redis's live set, sorted; empty while Redis does not answer.</summary>
    private static async Task<List<string>> LiveInRedisAsync(IRedisStore redis, string tag)
    {
        try
        {
            var members = await redis.SetMembersAsync("call-state:active:telnyx").WaitAsync(TimeSpan.FromSeconds(2));
            return [.. members.Where(m => m.Contains(tag, StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            return [];
        }
    }

    private static async Task<CallView?> SnapshotAsync(IRedisStore redis, string callId)
    {
        var version = await redis.GetAsync("call-state:call:" + callId);
        var json = version is null ? null : await redis.GetAsync($"call-state:snapshot:{callId}:{version}");
        return json is null ? null : JsonSerializer.Deserialize<CallView>(json, CallView.JsonOptions);
    }
}
