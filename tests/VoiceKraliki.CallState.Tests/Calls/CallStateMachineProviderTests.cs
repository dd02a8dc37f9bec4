using VoiceKraliki.CallState.Calls;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Events;
using static VoiceKraliki.CallState.Tests.Calls.CallEvents;

namespace VoiceKraliki.CallState.Tests.Calls;

/// <summary>Every row of <see cref="CallStatusMapping"/> driven through <see cref="CallStateMachine.Decide"/>.</summary>
public class CallStateMachineProviderTests
{
    // Written out by hand: the provider value (with ":qualifier" as in the mapping rows), what it does to a new
    // call (null: ignored, a placeholder), the end reason, and what it does to an answered call (the state after,
    // and why it was ignored; null: applied).
    public static TheoryData<string, CallStatus?, CallEndReason, CallStatus, string?> ExpectedTwilio => new()
    {
        { "queued", CallStatus.Initiated, CallEndReason.None, CallStatus.Answered, "no transition Answered -> Initiated" },
        { "initiated", CallStatus.Initiated, CallEndReason.None, CallStatus.Answered, "no transition Answered -> Initiated" },
        { "ringing", CallStatus.Ringing, CallEndReason.None, CallStatus.Answered, "no transition Answered -> Ringing" },
        { "in-progress", CallStatus.Answered, CallEndReason.None, CallStatus.Answered, "no change: already Answered" },
        { "completed", CallStatus.Completed, CallEndReason.Normal, CallStatus.Completed, null },
        { "busy", CallStatus.Completed, CallEndReason.Busy, CallStatus.Completed, null },
        { "no-answer", CallStatus.Completed, CallEndReason.NoAnswer, CallStatus.Completed, null },
        { "canceled", CallStatus.Completed, CallEndReason.Canceled, CallStatus.Completed, null },
        { "failed", CallStatus.Failed, CallEndReason.Failed, CallStatus.Answered, "no transition Answered -> Failed" },
        { "completed:machine_start", CallStatus.Completed, CallEndReason.MachineDetected, CallStatus.Completed, null },
        { "completed:machine_end_beep", CallStatus.Completed, CallEndReason.MachineDetected, CallStatus.Completed, null },
        { "completed:machine_end_silence", CallStatus.Completed, CallEndReason.MachineDetected, CallStatus.Completed, null },
        { "completed:machine_end_other", CallStatus.Completed, CallEndReason.MachineDetected, CallStatus.Completed, null },
        { "completed:fax", CallStatus.Completed, CallEndReason.MachineDetected, CallStatus.Completed, null },
    };

    public static TheoryData<string, CallStatus?, CallEndReason, CallStatus, string?> ExpectedTelnyx => new()
    {
        { "call.initiated", CallStatus.Initiated, CallEndReason.None, CallStatus.Answered, "no transition Answered -> Initiated" },
        { "call.answered", CallStatus.Answered, CallEndReason.None, CallStatus.Answered, "no change: already Answered" },
        { "call.bridged", CallStatus.Answered, CallEndReason.None, CallStatus.Answered, "no change: already Answered" },
        { "call.hold", CallStatus.OnHold, CallEndReason.None, CallStatus.OnHold, null },
        { "call.unhold", CallStatus.Answered, CallEndReason.None, CallStatus.Answered, "no change: already Answered" },
        { "call.enqueued", CallStatus.OnHold, CallEndReason.None, CallStatus.OnHold, null },
        { "call.dequeued", CallStatus.Answered, CallEndReason.None, CallStatus.Answered, "no change: already Answered" },
        { "call.refer.started", CallStatus.Transferring, CallEndReason.None, CallStatus.Transferring, null },
        { "call.refer.completed", null, CallEndReason.None, CallStatus.Answered, "no state change in event call.refer.completed" },
        { "call.refer.failed", CallStatus.Answered, CallEndReason.None, CallStatus.Answered, "no change: already Answered" },
        { "call.hangup", CallStatus.Completed, CallEndReason.Unknown, CallStatus.Completed, null },
        { "call.hangup:normal_clearing", CallStatus.Completed, CallEndReason.Normal, CallStatus.Completed, null },
        { "call.hangup:originator_cancel", CallStatus.Completed, CallEndReason.Canceled, CallStatus.Completed, null },
        { "call.hangup:call_rejected", CallStatus.Completed, CallEndReason.Rejected, CallStatus.Completed, null },
        { "call.hangup:user_busy", CallStatus.Completed, CallEndReason.Busy, CallStatus.Completed, null },
        { "call.hangup:no_answer", CallStatus.Completed, CallEndReason.NoAnswer, CallStatus.Completed, null },
        { "call.hangup:timeout", CallStatus.Completed, CallEndReason.NoAnswer, CallStatus.Completed, null },
        { "call.hangup:time_limit", CallStatus.Completed, CallEndReason.TimeLimit, CallStatus.Completed, null },
        { "call.hangup:not_found", CallStatus.Failed, CallEndReason.Failed, CallStatus.Answered, "no transition Answered -> Failed" },
        { "call.hangup:unspecified", CallStatus.Completed, CallEndReason.Unknown, CallStatus.Completed, null },
        { "call.dtmf.received", null, CallEndReason.None, CallStatus.Answered, "no state change in event call.dtmf.received" },
        { "call.gather.ended", null, CallEndReason.None, CallStatus.Answered, "no state change in event call.gather.ended" },
        { "call.playback.started", null, CallEndReason.None, CallStatus.Answered, "no state change in event call.playback.started" },
        { "call.playback.ended", null, CallEndReason.None, CallStatus.Answered, "no state change in event call.playback.ended" },
        { "call.speak.started", null, CallEndReason.None, CallStatus.Answered, "no state change in event call.speak.started" },
        { "call.speak.ended", null, CallEndReason.None, CallStatus.Answered, "no state change in event call.speak.ended" },
        { "call.recording.saved", null, CallEndReason.None, CallStatus.Answered, "no state change in event call.recording.saved" },
        { "call.machine.detection.ended", null, CallEndReason.None, CallStatus.Answered, "no state change in event call.machine.detection.ended" },
        { "call.machine.greeting.ended", null, CallEndReason.None, CallStatus.Answered, "no state change in event call.machine.greeting.ended" },
    };

    [Fact]
    public void The_expected_tables_cover_every_mapping_row_exactly()
    {
        Assert.Equal(
            CallStatusMapping.TwilioRows.Select(r => r.ProviderValue).Order(StringComparer.Ordinal),
            ExpectedTwilio.Select(row => (string)row[0]).Order(StringComparer.Ordinal));
        Assert.Equal(
            CallStatusMapping.TelnyxRows.Select(r => r.ProviderValue).Order(StringComparer.Ordinal),
            ExpectedTelnyx.Select(row => (string)row[0]).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ExpectedTwilio))]
    public void Every_twilio_status_does_the_expected_thing_to_a_new_and_to_an_answered_call(
        string providerValue, CallStatus? onNew, CallEndReason endReason, CallStatus afterAnswered, string? answeredIgnoredBecause)
    {
        var (value, answeredBy) = Split(providerValue);
        var e = Twilio(value, sequence: 10, second: 30, answeredBy);
        Assert.Equal(CallStatusMapping.TwilioRows.Single(r => r.ProviderValue == providerValue).Status, e.Status);

        AssertOnNewCall(e, onNew, endReason);
        AssertOnAnsweredCall(Snapshot(CallStatus.Answered, second: 5, lastSequence: 5), e, afterAnswered, endReason, answeredIgnoredBecause);
    }

    [Theory]
    [MemberData(nameof(ExpectedTelnyx))]
    public void Every_telnyx_event_does_the_expected_thing_to_a_new_and_to_an_answered_call(
        string providerValue, CallStatus? onNew, CallEndReason endReason, CallStatus afterAnswered, string? answeredIgnoredBecause)
    {
        var (value, hangupCause) = Split(providerValue);
        var e = Telnyx(value, 30_000, hangupCause);
        Assert.Equal(CallStatusMapping.TelnyxRows.Single(r => r.ProviderValue == providerValue).Status, e.Status);

        AssertOnNewCall(e, onNew, endReason);
        AssertOnAnsweredCall(Snapshot(CallStatus.Answered, second: 5, provider: TelephonyProvider.Telnyx), e, afterAnswered, endReason, answeredIgnoredBecause);
    }

    private static void AssertOnNewCall(CallEventReceived e, CallStatus? onNew, CallEndReason endReason)
    {
        var decision = CallStateMachine.Decide(null, e);

        Assert.Null(decision.From);
        if (onNew is { } created)
        {
            Assert.Equal(TransitionOutcome.Applied, decision.Outcome);
            Assert.Equal(created, decision.To);
            Assert.Equal(created, decision.Next.Status);
            Assert.Equal(endReason, decision.Next.EndReason);
            Assert.Equal(1, decision.Next.AppliedTransitions);
            Assert.Equal(CallStateMachine.IsTerminal(created) ? e.OccurredAt : null, decision.Next.EndedAt);
            Assert.Equal(created is CallStatus.Answered or CallStatus.OnHold or CallStatus.Transferring ? e.OccurredAt : null,
                decision.Next.AnsweredAt);
        }
        else
        {
            Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
            Assert.Equal($"no state change in event {e.EventType}", decision.IgnoredBecause);
            Assert.Equal(0, decision.Next.AppliedTransitions);
            Assert.Null(decision.Next.LastProviderTime);
        }
    }

    private static void AssertOnAnsweredCall(CallSnapshot answered, CallEventReceived e, CallStatus after, CallEndReason endReason,
        string? ignoredBecause)
    {
        var decision = CallStateMachine.Decide(answered, e);

        Assert.Equal(CallStatus.Answered, decision.From);
        Assert.Equal(after, decision.To);
        Assert.Equal(after, decision.Next.Status);
        Assert.Equal(ignoredBecause, decision.IgnoredBecause);
        Assert.Equal(ignoredBecause is null ? TransitionOutcome.Applied : TransitionOutcome.Ignored, decision.Outcome);
        Assert.Equal(answered.AnsweredAt, decision.Next.AnsweredAt);
        Assert.Equal(CallStateMachine.IsTerminal(after) ? endReason : CallEndReason.None, decision.Next.EndReason);
    }

    private static (string Value, string? Qualifier) Split(string providerValue)
    {
        var at = providerValue.IndexOf(CallStatusMapping.QualifierSeparator);
        return at < 0 ? (providerValue, null) : (providerValue[..at], providerValue[(at + 1)..]);
    }
}
