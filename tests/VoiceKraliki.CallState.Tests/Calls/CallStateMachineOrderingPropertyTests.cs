using VoiceKraliki.CallState.Calls;
using VoiceKraliki.Contracts;
using static VoiceKraliki.CallState.Tests.Calls.CallEvents;

namespace VoiceKraliki.CallState.Tests.Calls;

/// <summary>
/// Webhooks arrive in any order and some twice. Whatever the arrival order, a call must end where the in-order
/// sequence ends it, and no event may be applied twice. Seeded, so a failure names a reproducible permutation.
/// </summary>
public class CallStateMachineOrderingPropertyTests
{
    private const int Permutations = 1_000;

    public static TheoryData<string> Scenarios => new(Sequences.Keys);

    // Realistic calls, in the order the provider produced them, with what they end as.
    private static readonly Dictionary<string, (CallEventReceived[] Events, CallStatus Status, CallEndReason EndReason)> Sequences = new()
    {
        ["twilio outbound answered, a callback retried, a recording callback"] = (
        [
            Twilio("queued", 0, 0),
            Twilio("initiated", 1, 0),
            Twilio("ringing", 2, 1),
            Twilio("ringing", 2, 1),
            Twilio("in-progress", 3, 7),
            TwilioWithoutStatus("recording.in-progress", 8),
            TwilioWithoutStatus("recording.completed", 95),
            Twilio("completed", 4, 95),
        ], CallStatus.Completed, CallEndReason.Normal),

        ["twilio outbound to a machine"] = (
        [
            Twilio("initiated", 0, 0),
            Twilio("ringing", 1, 1),
            Twilio("in-progress", 2, 9),
            TwilioWithoutStatus("amd.completed", 12),
            Twilio("completed", 3, 40, "machine_end_beep"),
        ], CallStatus.Completed, CallEndReason.MachineDetected),

        ["twilio outbound busy"] = (
        [
            Twilio("queued", 0, 0),
            Twilio("initiated", 1, 0),
            Twilio("ringing", 2, 1),
            Twilio("busy", 3, 4),
        ], CallStatus.Completed, CallEndReason.Busy),

        ["twilio outbound to a number that does not exist"] = (
        [
            Twilio("queued", 0, 0),
            Twilio("initiated", 1, 0),
            Twilio("failed", 2, 1),
        ], CallStatus.Failed, CallEndReason.Failed),

        ["twilio inbound: an unsequenced voice webhook, then sequenced status callbacks"] = (
        [
            Twilio("ringing", null, 0) with { OccurredAt = T0.AddMilliseconds(700) },
            Twilio("in-progress", 0, 0),
            Twilio("in-progress", 0, 0),
            Twilio("completed", 1, 62),
        ], CallStatus.Completed, CallEndReason.Normal),

        ["twilio still ringing"] = (
        [
            Twilio("queued", 0, 0),
            Twilio("initiated", 1, 0),
            Twilio("ringing", 2, 1),
        ], CallStatus.Ringing, CallEndReason.None),

        ["telnyx inbound with hold, queue, a failed and a good transfer"] = (
        [
            Telnyx("call.initiated", 0),
            Telnyx("call.answered", 1_200),
            Telnyx("call.playback.started", 1_300),
            Telnyx("call.playback.ended", 4_100),
            Telnyx("call.dtmf.received", 5_000),
            Telnyx("call.hold", 6_000),
            Telnyx("call.unhold", 9_000),
            Telnyx("call.enqueued", 10_000),
            Telnyx("call.dequeued", 31_000),
            Telnyx("call.bridged", 31_050),
            Telnyx("call.refer.started", 40_000),
            Telnyx("call.refer.failed", 41_000),
            Telnyx("call.hold", 42_000),
            Telnyx("call.refer.started", 50_000),
            Telnyx("call.refer.completed", 51_000),
            Telnyx("call.recording.saved", 51_500),
            Telnyx("call.hangup", 51_400, "normal_clearing"),
        ], CallStatus.Completed, CallEndReason.Normal),

        ["telnyx live call, held twice"] = (
        [
            Telnyx("call.initiated", 0),
            Telnyx("call.answered", 2_000),
            Telnyx("call.hold", 3_000),
            Telnyx("call.unhold", 4_000),
            Telnyx("call.speak.started", 4_500),
            Telnyx("call.hold", 5_000),
            Telnyx("call.hold", 5_000),
        ], CallStatus.OnHold, CallEndReason.None),

        ["telnyx live call, transferring"] = (
        [
            Telnyx("call.initiated", 0),
            Telnyx("call.answered", 2_000),
            Telnyx("call.hold", 3_000),
            Telnyx("call.unhold", 4_000),
            Telnyx("call.refer.started", 6_000),
        ], CallStatus.Transferring, CallEndReason.None),

        ["telnyx outbound nobody answered"] = (
        [
            Telnyx("call.initiated", 0),
            Telnyx("call.hangup", 30_000, "timeout"),
        ], CallStatus.Completed, CallEndReason.NoAnswer),
    };

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void In_order_the_call_ends_as_expected(string scenario)
    {
        var (events, status, endReason) = Sequences[scenario];

        var (call, decisions) = Run(events);

        Assert.Equal((status, endReason), (call!.Status, call.EndReason));
        Assert.DoesNotContain(decisions, d => d.IgnoredBecause?.StartsWith("no transition", StringComparison.Ordinal) == true);
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Any_arrival_order_ends_the_call_where_the_in_order_sequence_does(string scenario)
    {
        var (events, _, _) = Sequences[scenario];
        var (inOrder, _) = Run(events);
        var distinctEvents = events.Select(e => (e.EventType, e.Status, e.Sequence, e.OccurredAt)).Distinct().Count();
        var random = new Random(20250610 + scenario.Length);

        for (var i = 0; i < Permutations; i++)
        {
            var arrival = events.Select(e => e with { EventId = Guid.NewGuid() }).ToArray();
            random.Shuffle(arrival);
            var order = string.Join(", ", arrival.Select(e => $"{e.EventType}@{e.OccurredAt:ss.fff}#{e.Sequence}"));

            var (call, decisions) = Run(arrival);
            var applied = decisions.Count(d => d.Outcome == TransitionOutcome.Applied);

            Assert.True(call!.Status == inOrder!.Status && call.EndReason == inOrder.EndReason && call.EndedAt == inOrder.EndedAt,
                $"{order} ended {call.Status}/{call.EndReason}, in order {inOrder.Status}/{inOrder.EndReason}");
            Assert.True(applied <= distinctEvents, $"{order} applied {applied} of {distinctEvents} distinct events");
            Assert.Equal(applied, call.AppliedTransitions);
            AssertNeverBackwards(decisions, order);
        }
    }

    private static void AssertNeverBackwards(List<TransitionDecision> decisions, string order)
    {
        DateTimeOffset? watermark = null;
        foreach (var decision in decisions)
        {
            if (decision.Outcome == TransitionOutcome.Applied && decision.From is { } from)
            {
                Assert.True(CallStateMachine.IsLegal(from, decision.To), $"{order}: applied {from} -> {decision.To}");
            }

            Assert.True(decision.Outcome == TransitionOutcome.Applied || decision.IgnoredBecause is not null, order);
            Assert.True(watermark is null || decision.Next.LastProviderTime >= watermark, $"{order}: provider time went backwards");
            watermark = decision.Next.LastProviderTime ?? watermark;
        }
    }
}
