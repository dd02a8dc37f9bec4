using VoiceKraliki.CallState.Calls;
using VoiceKraliki.Contracts;
using static VoiceKraliki.CallState.Tests.Calls.CallEvents;

namespace VoiceKraliki.CallState.Tests.Calls;

public class CallStateMachineDecideTests
{
    // --- A new call ---

    [Fact]
    public void The_first_event_with_a_state_creates_the_call_from_the_event()
    {
        var e = Twilio("ringing", sequence: 1, second: 3) with { Direction = CallDirection.Inbound };

        var decision = CallStateMachine.Decide(null, e);

        Assert.Equal(TransitionOutcome.Applied, decision.Outcome);
        Assert.Null(decision.From);
        Assert.Equal(CallStatus.Ringing, decision.To);
        Assert.Null(decision.IgnoredBecause);
        Assert.Equal(
            new CallSnapshot(CallId, "session-1", TelephonyProvider.Twilio, CallDirection.Inbound, CallStatus.Ringing,
                CallEndReason.None, "+420600000001", "+420600000002", e.ReceivedAt, e.ReceivedAt, null, null, 1, e.OccurredAt, 1),
            decision.Next);
    }

    [Fact]
    public void A_first_event_that_is_already_completed_creates_a_completed_call()
    {
        var e = Twilio("busy", sequence: 2, second: 20);

        var decision = CallStateMachine.Decide(null, e);

        Assert.Equal(TransitionOutcome.Applied, decision.Outcome);
        Assert.Null(decision.From);
        Assert.Equal(CallStatus.Completed, decision.Next.Status);
        Assert.Equal(CallEndReason.Busy, decision.EndReason);
        Assert.Equal(CallEndReason.Busy, decision.Next.EndReason);
        Assert.Equal(e.OccurredAt, decision.Next.EndedAt);
        Assert.Null(decision.Next.AnsweredAt);
    }

    [Fact]
    public void A_first_event_without_a_state_is_ignored_and_gives_a_placeholder_with_no_state_history()
    {
        var e = Telnyx("call.dtmf.received", 400);

        var decision = CallStateMachine.Decide(null, e);

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.Equal("no state change in event call.dtmf.received", decision.IgnoredBecause);
        Assert.Null(decision.From);
        Assert.Equal(CallStatus.Initiated, decision.To);
        Assert.Equal(
            new CallSnapshot(CallId, "session-1", TelephonyProvider.Telnyx, CallDirection.Outbound, CallStatus.Initiated,
                CallEndReason.None, "+420600000001", "+420600000002", e.ReceivedAt, e.ReceivedAt, null, null, null, null, 0),
            decision.Next);
    }

    [Fact]
    public void A_placeholder_is_created_as_new_by_the_first_event_with_a_state()
    {
        var placeholder = CallStateMachine.Decide(null, Telnyx("call.recording.saved", 900)).Next;
        var initiated = Telnyx("call.initiated", 100);

        var decision = CallStateMachine.Decide(placeholder, initiated);

        // Not "no change: already Initiated": the placeholder's state was never a state the call was in.
        Assert.Equal(TransitionOutcome.Applied, decision.Outcome);
        Assert.Null(decision.From);
        Assert.Equal(CallStatus.Initiated, decision.Next.Status);
        Assert.Equal(1, decision.Next.AppliedTransitions);
        Assert.Equal(placeholder.CreatedAt, decision.Next.CreatedAt);
        Assert.Equal(initiated.OccurredAt, decision.Next.LastProviderTime);
    }

    [Fact]
    public void A_second_event_without_a_state_leaves_a_placeholder_as_it_was()
    {
        var placeholder = CallStateMachine.Decide(null, Telnyx("call.recording.saved", 900)).Next;

        var decision = CallStateMachine.Decide(placeholder, Telnyx("call.dtmf.received", 1000));

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.Null(decision.From);
        Assert.Same(placeholder, decision.Next);
    }

    // --- What an applied event records ---

    [Fact]
    public void Answered_at_is_set_on_the_first_answer_and_kept_through_hold_and_unhold()
    {
        var (call, _) = Run([
            Telnyx("call.initiated", 0),
            Telnyx("call.answered", 1000),
            Telnyx("call.hold", 2000),
            Telnyx("call.unhold", 3000),
        ]);

        Assert.Equal(CallStatus.Answered, call!.Status);
        Assert.Equal(T0.AddMilliseconds(1000), call.AnsweredAt);
        Assert.Equal(4, call.AppliedTransitions);
    }

    [Theory]
    [InlineData("call.hold")]
    [InlineData("call.refer.started")]
    public void A_call_held_or_transferred_before_an_answer_was_seen_was_answered_then(string eventType)
    {
        var decision = CallStateMachine.Decide(Snapshot(CallStatus.Initiated, second: 0, provider: TelephonyProvider.Telnyx),
            Telnyx(eventType, 2000));

        Assert.Equal(TransitionOutcome.Applied, decision.Outcome);
        Assert.Equal(T0.AddMilliseconds(2000), decision.Next.AnsweredAt);
    }

    [Fact]
    public void Ending_a_call_records_when_and_why_it_ended()
    {
        var e = Telnyx("call.hangup", 9000, "user_busy");

        var decision = CallStateMachine.Decide(Snapshot(CallStatus.Ringing, second: 1, provider: TelephonyProvider.Telnyx), e);

        Assert.Equal(CallStatus.Completed, decision.Next.Status);
        Assert.Equal(CallEndReason.Busy, decision.Next.EndReason);
        Assert.Equal(e.OccurredAt, decision.Next.EndedAt);
        Assert.Null(decision.Next.AnsweredAt);
    }

    [Fact]
    public void A_terminal_event_without_an_end_reason_ends_the_call_for_an_unknown_reason()
    {
        var decision = CallStateMachine.Decide(Snapshot(CallStatus.Answered), To(CallStatus.Completed, endReason: CallEndReason.None));

        Assert.Equal(CallEndReason.Unknown, decision.EndReason);
        Assert.Equal(CallEndReason.Unknown, decision.Next.EndReason);
    }

    [Fact]
    public void A_live_call_has_no_end_reason_whatever_the_event_says()
    {
        var decision = CallStateMachine.Decide(Snapshot(CallStatus.Ringing), To(CallStatus.Answered, endReason: CallEndReason.Busy));

        Assert.Equal(CallEndReason.None, decision.Next.EndReason);
    }

    [Fact]
    public void Missing_direction_numbers_and_session_are_filled_from_the_event()
    {
        var known = Snapshot(CallStatus.Ringing) with { Direction = CallDirection.Unknown, From = null, To = "", SessionId = null };
        var e = To(CallStatus.Answered) with { Direction = CallDirection.Inbound, From = "+1555", To = "+1666", SessionId = "s-2" };

        var next = CallStateMachine.Decide(known, e).Next;

        Assert.Equal((CallDirection.Inbound, "+1555", "+1666", "s-2"), (next.Direction, next.From, next.To, next.SessionId));
    }

    [Fact]
    public void Known_direction_numbers_and_session_are_not_overwritten()
    {
        var known = Snapshot(CallStatus.Ringing);
        var e = To(CallStatus.Answered) with { Direction = CallDirection.Inbound, From = "+1555", To = null, SessionId = "s-2" };

        var next = CallStateMachine.Decide(known, e).Next;

        Assert.Equal((known.Direction, known.From, known.To, known.SessionId), (next.Direction, next.From, next.To, next.SessionId));
    }

    [Fact]
    public void Created_at_never_changes_and_updated_at_never_goes_backwards()
    {
        var known = Snapshot(CallStatus.Ringing, second: 5) with { UpdatedAt = T0.AddSeconds(60) };
        var e = To(CallStatus.Answered, second: 10);

        var next = CallStateMachine.Decide(known, e).Next;

        Assert.Equal(known.CreatedAt, next.CreatedAt);
        Assert.Equal(T0.AddSeconds(60), next.UpdatedAt);
        Assert.Equal(e.ReceivedAt, CallStateMachine.Decide(known with { UpdatedAt = T0 }, e).Next.UpdatedAt);
    }

    [Fact]
    public void An_applied_event_moves_the_sequence_and_provider_time_watermarks()
    {
        var next = CallStateMachine.Decide(Snapshot(CallStatus.Ringing, second: 5, lastSequence: 2), Twilio("in-progress", 3, 8)).Next;

        Assert.Equal(3, next.LastSequence);
        Assert.Equal(T0.AddSeconds(8), next.LastProviderTime);
    }

    [Fact]
    public void Provider_time_never_goes_backwards_when_the_sequence_orders_an_older_timestamp_first()
    {
        // Sequence wins over a skewed timestamp; the time watermark still keeps the latest time seen.
        var next = CallStateMachine.Decide(Snapshot(CallStatus.Ringing, second: 5, lastSequence: 2), Twilio("in-progress", 3, 1)).Next;

        Assert.Equal(CallStatus.Answered, next.Status);
        Assert.Equal(T0.AddSeconds(5), next.LastProviderTime);
    }

    // --- Ignored events ---

    [Theory]
    [InlineData(CallStatus.Initiated)]
    [InlineData(CallStatus.Answered)]
    [InlineData(CallStatus.Completed)]
    public void An_event_without_a_state_never_changes_the_call_nor_its_provider_time(CallStatus status)
    {
        var known = Snapshot(status, second: 5);

        var decision = CallStateMachine.Decide(known, TwilioWithoutStatus("recording.completed", 30));

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.Equal("no state change in event recording.completed", decision.IgnoredBecause);
        Assert.Equal((status, status), (decision.From, decision.To));
        Assert.Same(known, decision.Next);
    }

    [Fact]
    public void An_ignored_event_leaves_the_snapshot_exactly_as_it_was()
    {
        var known = Snapshot(CallStatus.Answered, second: 5) with { From = null, Direction = CallDirection.Unknown };

        var decision = CallStateMachine.Decide(known, To(CallStatus.Ringing, second: 30));

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.Same(known, decision.Next);
        Assert.Equal(known.EndReason, decision.EndReason);
    }

    [Fact]
    public void A_backward_event_is_ignored_even_when_it_is_newer()
    {
        var decision = CallStateMachine.Decide(Snapshot(CallStatus.Answered, second: 5, lastSequence: 3), Twilio("ringing", 9, 30));

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.Equal("no transition Answered -> Ringing", decision.IgnoredBecause);
    }

    [Fact]
    public void A_failure_after_the_answer_is_ignored()
    {
        var decision = CallStateMachine.Decide(Snapshot(CallStatus.Answered), Twilio("failed", null, 30));

        Assert.Equal("no transition Answered -> Failed", decision.IgnoredBecause);
        Assert.Equal(CallStatus.Answered, decision.Next.Status);
    }

    [Fact]
    public void An_event_from_another_provider_is_ignored()
    {
        var known = Snapshot(CallStatus.Ringing, provider: TelephonyProvider.Twilio);

        var decision = CallStateMachine.Decide(known, Telnyx("call.answered", 60_000));

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.Equal("provider Telnyx is not the call's provider Twilio", decision.IgnoredBecause);
        Assert.Same(known, decision.Next);
    }

    [Fact]
    public void An_event_with_a_state_outside_the_seven_is_ignored()
    {
        var decision = CallStateMachine.Decide(Snapshot(CallStatus.Ringing), To(CallStatus.Answered) with { Status = (CallStatus)42 });

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.Equal("unknown state 42 in event call.answered", decision.IgnoredBecause);
    }

    [Fact]
    public void An_event_for_another_call_is_a_programming_error()
    {
        Assert.Throws<ArgumentException>(() =>
            CallStateMachine.Decide(Snapshot(CallStatus.Ringing), To(CallStatus.Answered) with { ProviderCallId = "CAother" }));
        Assert.Throws<ArgumentNullException>(() => CallStateMachine.Decide(null, null!));
    }

    // --- Terminal states absorb everything ---

    public static TheoryData<CallStatus, CallStatus> TerminalAgainstEveryState => CallStateMachineTableTests.Pairs(
        from terminal in new[] { CallStatus.Completed, CallStatus.Failed }
        from status in Enum.GetValues<CallStatus>()
        select (terminal, status));

    [Theory]
    [MemberData(nameof(TerminalAgainstEveryState))]
    public void A_terminal_call_ignores_every_later_event_however_new(CallStatus terminal, CallStatus status)
    {
        var known = Snapshot(terminal, second: 5, lastSequence: 4);

        var decision = CallStateMachine.Decide(known, To(status, second: 3600, sequence: 100));

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.Equal($"terminal state {terminal}", decision.IgnoredBecause);
        Assert.Equal((terminal, terminal), (decision.From, decision.To));
        Assert.Same(known, decision.Next);
    }

    // --- Order: by sequence when both have one, else by provider time, never by arrival ---

    [Fact]
    public void Completed_before_ringing_ends_completed_and_the_late_ringing_is_ignored()
    {
        var (call, decisions) = Run([
            Twilio("initiated", 0, 0),
            Twilio("completed", 3, 40),
            Twilio("ringing", 1, 1),
            Twilio("in-progress", 2, 5),
        ]);

        Assert.Equal((CallStatus.Completed, CallEndReason.Normal), (call!.Status, call.EndReason));
        Assert.Equal(T0.AddSeconds(40), call.EndedAt);
        Assert.Equal([TransitionOutcome.Applied, TransitionOutcome.Applied, TransitionOutcome.Ignored, TransitionOutcome.Ignored],
            decisions.Select(d => d.Outcome));
        Assert.Equal("terminal state Completed", decisions[2].IgnoredBecause);
        Assert.Equal((CallStatus?)CallStatus.Initiated, decisions[1].From);
    }

    [Fact]
    public void A_telnyx_hangup_before_the_answer_by_timestamp_ends_the_call_and_the_answer_is_ignored()
    {
        var (call, decisions) = Run([
            Telnyx("call.initiated", 0),
            Telnyx("call.hangup", 30_000, "normal_clearing"),
            Telnyx("call.answered", 2_000),
        ]);

        Assert.Equal((CallStatus.Completed, CallEndReason.Normal), (call!.Status, call.EndReason));
        Assert.Equal("terminal state Completed", decisions[2].IgnoredBecause);
    }

    [Fact]
    public void An_answered_call_ignores_a_ringing_that_arrives_late_by_sequence()
    {
        var (call, decisions) = Run([
            Twilio("initiated", 0, 0),
            Twilio("in-progress", 3, 6),
            Twilio("ringing", 2, 1),
        ]);

        Assert.Equal(CallStatus.Answered, call!.Status);
        Assert.Equal(TransitionOutcome.Ignored, decisions[2].Outcome);
        Assert.Equal("stale: sequence 2 <= 3", decisions[2].IgnoredBecause);
    }

    [Fact]
    public void A_late_telnyx_answer_does_not_take_a_held_call_off_hold()
    {
        // OnHold -> Answered is legal, so only the provider time can tell that this answer is old news.
        var (call, decisions) = Run([
            Telnyx("call.initiated", 0),
            Telnyx("call.hold", 5_000),
            Telnyx("call.answered", 2_000),
        ]);

        Assert.Equal(CallStatus.OnHold, call!.Status);
        Assert.Equal(
            "stale: provider time 2025-06-10T12:00:02.0000000+00:00 < 2025-06-10T12:00:05.0000000+00:00",
            decisions[2].IgnoredBecause);
    }

    [Fact]
    public void A_late_telnyx_unhold_does_not_undo_a_later_hold_that_repeated_the_state()
    {
        // hold(2s), unhold(3s), hold(4s) arriving as hold(2s), hold(4s), unhold(3s): the second hold changes
        // nothing but still dates the state, so the unhold is older than what we know.
        var (call, decisions) = Run([
            Telnyx("call.answered", 1_000),
            Telnyx("call.hold", 2_000),
            Telnyx("call.hold", 4_000),
            Telnyx("call.unhold", 3_000),
        ]);

        Assert.Equal(CallStatus.OnHold, call!.Status);
        Assert.StartsWith("stale: provider time", decisions[3].IgnoredBecause, StringComparison.Ordinal);
    }

    [Fact]
    public void Arrival_order_does_not_matter_only_provider_time_does()
    {
        // Arrival (ReceivedAt) says the unhold came last; the provider says it happened first.
        var hold = Telnyx("call.hold", 5_000) with { ReceivedAt = T0 };
        var unhold = Telnyx("call.unhold", 4_000) with { ReceivedAt = T0.AddHours(1) };

        var (call, _) = Run([hold, unhold], Snapshot(CallStatus.Answered, second: 1, provider: TelephonyProvider.Telnyx));

        Assert.Equal(CallStatus.OnHold, call!.Status);
    }

    [Fact]
    public void Sequence_numbers_win_over_timestamps_when_both_sides_have_one()
    {
        var known = Snapshot(CallStatus.Ringing, second: 5, lastSequence: 2);

        var older = CallStateMachine.Decide(known, Twilio("in-progress", 1, 60));
        var newer = CallStateMachine.Decide(known, Twilio("in-progress", 3, 0));

        Assert.Equal("stale: sequence 1 <= 2", older.IgnoredBecause);
        Assert.Equal(TransitionOutcome.Applied, newer.Outcome);
    }

    [Fact]
    public void Provider_time_orders_when_only_one_side_has_a_sequence_number()
    {
        var known = Snapshot(CallStatus.Answered, second: 5, lastSequence: null, provider: TelephonyProvider.Telnyx);
        var stale = Telnyx("call.hold", 4_000) with { Sequence = 99 };

        Assert.StartsWith("stale: provider time", CallStateMachine.Decide(known, stale).IgnoredBecause, StringComparison.Ordinal);

        var withSequence = Snapshot(CallStatus.Answered, second: 5, lastSequence: 7, provider: TelephonyProvider.Telnyx);
        Assert.StartsWith("stale: provider time", CallStateMachine.Decide(withSequence, Telnyx("call.hold", 4_000)).IgnoredBecause, StringComparison.Ordinal);
        Assert.Equal(TransitionOutcome.Applied, CallStateMachine.Decide(withSequence, Telnyx("call.hold", 6_000)).Outcome);
    }

    [Fact]
    public void A_twilio_answer_in_the_same_second_as_an_unsequenced_ringing_is_not_stale()
    {
        // The inbound voice webhook has no Timestamp, so its time is the receive time with milliseconds; the
        // status callback's Timestamp has whole seconds. Within the same second, the table orders them.
        var ringing = TwilioWithoutStatus("call.ringing", 0) with { Status = CallStatus.Ringing, OccurredAt = T0.AddMilliseconds(700) };
        var answered = Twilio("in-progress", 0, 0);

        var (call, decisions) = Run([ringing, answered]);

        Assert.Equal(CallStatus.Answered, call!.Status);
        Assert.All(decisions, d => Assert.Equal(TransitionOutcome.Applied, d.Outcome));
    }

    [Fact]
    public void A_twilio_event_from_an_earlier_second_is_stale()
    {
        var known = Snapshot(CallStatus.Answered, second: 5);

        var decision = CallStateMachine.Decide(known, Twilio("completed", null, 4));

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.StartsWith("stale: provider time", decision.IgnoredBecause, StringComparison.Ordinal);
    }

    [Fact]
    public void Telnyx_events_at_the_same_instant_are_ordered_by_the_table()
    {
        var known = Snapshot(CallStatus.Answered, second: 5, provider: TelephonyProvider.Telnyx);

        var decision = CallStateMachine.Decide(known, Telnyx("call.hold", 5_000));

        Assert.Equal(TransitionOutcome.Applied, decision.Outcome);
    }

    // --- Duplicates ---

    [Fact]
    public void A_twilio_callback_delivered_twice_is_applied_once()
    {
        var answered = Twilio("in-progress", 2, 6);
        var (call, decisions) = Run([Twilio("ringing", 1, 1), answered, answered with { EventId = Guid.NewGuid() }]);

        Assert.Equal(TransitionOutcome.Ignored, decisions[2].Outcome);
        Assert.Equal("stale: sequence 2 <= 2", decisions[2].IgnoredBecause);
        Assert.Equal(2, call!.AppliedTransitions);
    }

    [Fact]
    public void A_telnyx_webhook_delivered_twice_is_applied_once()
    {
        var answered = Telnyx("call.answered", 2_000);
        var (call, decisions) = Run([Telnyx("call.initiated", 0), answered, answered]);

        Assert.Equal(TransitionOutcome.Ignored, decisions[2].Outcome);
        Assert.Equal("no change: already Answered", decisions[2].IgnoredBecause);
        Assert.Equal(2, call!.AppliedTransitions);
    }

    [Fact]
    public void A_hangup_delivered_twice_is_ignored_the_second_time_as_terminal()
    {
        var hangup = Telnyx("call.hangup", 9_000, "normal_clearing");
        var (call, decisions) = Run([Telnyx("call.answered", 2_000), hangup, hangup]);

        Assert.Equal("terminal state Completed", decisions[2].IgnoredBecause);
        Assert.Equal(T0.AddMilliseconds(9_000), call!.EndedAt);
    }

    [Fact]
    public void A_newer_repeat_of_the_state_is_no_change_but_moves_the_ordering_watermarks_only()
    {
        var known = Snapshot(CallStatus.Ringing, second: 5, lastSequence: 1);

        var decision = CallStateMachine.Decide(known, To(CallStatus.Ringing, second: 9, sequence: 4) with { From = "+1555" });

        Assert.Equal(TransitionOutcome.Ignored, decision.Outcome);
        Assert.Equal("no change: already Ringing", decision.IgnoredBecause);
        Assert.Equal(known with { LastSequence = 4, LastProviderTime = T0.AddSeconds(9) }, decision.Next);
    }

    [Fact]
    public void An_exact_repeat_leaves_the_snapshot_as_it_was()
    {
        var known = Snapshot(CallStatus.Ringing, second: 5, provider: TelephonyProvider.Telnyx);

        Assert.Same(known, CallStateMachine.Decide(known, Telnyx("call.initiated", 5_000) with { Status = CallStatus.Ringing }).Next);
    }

    [Fact]
    public void Twilio_queued_then_initiated_is_one_transition()
    {
        var (call, decisions) = Run([Twilio("queued", 0, 0), Twilio("initiated", 1, 0)]);

        Assert.Equal(CallStatus.Initiated, call!.Status);
        Assert.Equal("no change: already Initiated", decisions[1].IgnoredBecause);
    }
}
