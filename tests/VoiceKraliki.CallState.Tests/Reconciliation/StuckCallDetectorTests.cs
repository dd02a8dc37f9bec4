using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.CallState.Reconciliation;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;
using static VoiceKraliki.CallState.Tests.Apis.TestCalls;

namespace VoiceKraliki.CallState.Tests.Reconciliation;

/// <summary>Stuck-call detection of the real service on the real Postgres.</summary>
[Collection(CallStateInfrastructureCollection.Name)]
public sealed class StuckCallDetectorTests(CallStateInfrastructure infrastructure)
{
    private static readonly (string, string?)[] Often = [("Reconciliation:Interval", "00:00:00.200")];

    [Fact]
    public async Task A_ringing_call_is_flagged_once_its_timeout_has_passed_without_an_update()
    {
        // A timeout long enough that a loaded machine gets from the events' time to the first read within it.
        await using var host = await CallStateHost.StartAsync(infrastructure, ("Reconciliation:Interval", "00:00:00.200"), ("Reconciliation:RingingTimeout", "00:00:05"));
        using var client = host.CreateClient();
        var callId = "v3:" + Tag();
        var t = Now();

        await host.ProcessAllAsync(Through(callId, t, CallStatus.Initiated, CallStatus.Ringing));
        var ringingSince = t.AddSeconds(1).AddMilliseconds(200);
        Assert.Equal(JsonValueKind.Null, (await GetJsonAsync(client, Path(callId))).GetProperty("stuckSince").ValueKind);

        await Eventually(async () => await StuckSinceAsync(client, callId) is not null, seconds: 20);
        var stuckSince = (await StuckSinceAsync(client, callId))!.Value;
        Assert.True(stuckSince - ringingSince >= TimeSpan.FromSeconds(5), $"flagged {stuckSince - ringingSince} after its last update");

        using var db = host.NewDbContext();
        var metadata = JsonDocument.Parse(db.Calls.Single(c => c.ProviderCallId == callId).Metadata).RootElement;
        Assert.Equal("ringing", metadata.GetProperty("stuck_status").GetString());
        Assert.Equal(stuckSince, metadata.GetProperty("stuck_since").GetDateTimeOffset());
    }

    [Fact]
    public async Task Only_live_calls_past_their_states_timeout_are_flagged_each_once_and_handed_to_their_providers_reconciler()
    {
        var reconciler = new RecordingReconciler(TelephonyProvider.Telnyx);
        await using var host = await CallStateHost.StartAsync(infrastructure,
            services => services.AddSingleton<IProviderCallReconciler>(reconciler), Often);
        using var client = host.CreateClient();
        var tag = Tag();
        var now = Now();
        var longAgo = now.AddMinutes(-10);
        var stuckRinging = $"v3:{tag}-ringing-old";
        var freshRinging = $"v3:{tag}-ringing-new";
        var answeredLongAgo = $"v3:{tag}-answered-old";
        var endedLongAgo = $"v3:{tag}-ended-old";
        var stuckTwilio = $"CA{tag}ringingold";
        await host.ProcessAllAsync(
        [
            Event(stuckRinging, CallStatus.Ringing, longAgo),
            Event(freshRinging, CallStatus.Ringing, now),
            Event(answeredLongAgo, CallStatus.Answered, longAgo),
            Event(endedLongAgo, CallStatus.Completed, longAgo),
            Event(stuckTwilio, CallStatus.Initiated, longAgo, TelephonyProvider.Twilio),
        ]);

        await Eventually(async () => await StuckSinceAsync(client, stuckRinging) is not null && await StuckSinceAsync(client, stuckTwilio) is not null);
        // More passes go by: nothing is flagged or handed over twice.
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Null(await StuckSinceAsync(client, freshRinging));
        Assert.Null(await StuckSinceAsync(client, answeredLongAgo));
        Assert.Null(await StuckSinceAsync(client, endedLongAgo));
        var handed = reconciler.Calls.Where(c => c.ProviderCallId.Contains(tag, StringComparison.Ordinal)).ToList();
        var call = Assert.Single(handed);
        Assert.Equal(stuckRinging, call.ProviderCallId);
        Assert.Equal(CallStatus.Ringing, call.Status);
        Assert.Equal(longAgo.AddMilliseconds(200), call.UpdatedAt);
        Assert.Equal(await StuckSinceAsync(client, stuckRinging), call.StuckSince);
    }

    [Fact]
    public async Task A_flagged_call_that_moves_on_is_no_longer_stuck_and_can_be_flagged_again_in_its_new_state()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure, ("Reconciliation:Interval", "00:00:00.200"), ("Reconciliation:AnsweredTimeout", "00:00:03"));
        using var client = host.CreateClient();
        var callId = "v3:" + Tag();
        var longAgo = Now().AddMinutes(-10);
        await host.ProcessAllAsync([Event(callId, CallStatus.Ringing, longAgo)]);
        await Eventually(async () => await StuckSinceAsync(client, callId) is not null);

        // The answer arrives (late, as after a lost webhook): the call is live and current again.
        await host.ProcessAllAsync([Event(callId, CallStatus.Answered, Now())]);
        var answered = await GetAsync<CallView>(client, Path(callId));
        Assert.Equal(CallStatus.Answered, answered.Status);
        Assert.Null(answered.StuckSince);

        await Eventually(async () => await StuckSinceAsync(client, callId) is not null, seconds: 20);
        var again = await GetAsync<CallView>(client, Path(callId));
        Assert.Equal(CallStatus.Answered, again.Status);
        Assert.True(again.StuckSince - again.UpdatedAt >= TimeSpan.FromSeconds(3));
    }

    private static async Task<DateTimeOffset?> StuckSinceAsync(HttpClient client, string callId)
    {
        var call = await GetJsonAsync(client, Path(callId));
        var since = call.GetProperty("stuckSince");
        return since.ValueKind == JsonValueKind.Null ? null : since.GetDateTimeOffset();
    }

    private sealed class RecordingReconciler(TelephonyProvider provider) : IProviderCallReconciler
    {
        public ConcurrentQueue<StuckCall> Calls { get; } = new();

        public TelephonyProvider Provider => provider;

        public Task ReconcileAsync(StuckCall call, CancellationToken cancellationToken)
        {
            Calls.Enqueue(call);
            return Task.CompletedTask;
        }
    }
}
