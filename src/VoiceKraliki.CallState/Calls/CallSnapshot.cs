using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Calls;

/// <summary>What call-state knows about one call: one row of <c>calls</c>.</summary>
/// <param name="ProviderCallId">Twilio <c>CallSid</c> or Telnyx <c>call_control_id</c>; the key.</param>
/// <param name="CreatedAt">When call-state first heard of the call (the first event's <c>ReceivedAt</c>); never changes.</param>
/// <param name="UpdatedAt">The latest <c>ReceivedAt</c> of an applied event; never goes backwards.</param>
/// <param name="AnsweredAt">Provider time of the first entry into a connected state (Answered, or OnHold/Transferring when the answer was lost).</param>
/// <param name="EndedAt">Provider time of the entry into Completed or Failed.</param>
/// <param name="LastSequence">Highest provider sequence number applied (Twilio <c>SequenceNumber</c>), null if none.</param>
/// <param name="LastProviderTime">Latest provider time (<c>OccurredAt</c>) of an applied event; never goes backwards.</param>
/// <param name="AppliedTransitions">
/// How many events changed the state. 0 only for a placeholder: a call whose every event so far had no state
/// (see docs/call-state-machine.md); <see cref="CallStateMachine.Decide"/> treats such a call as new.
/// </param>
public sealed record CallSnapshot(
    string ProviderCallId,
    string? SessionId,
    TelephonyProvider Provider,
    CallDirection Direction,
    CallStatus Status,
    CallEndReason EndReason,
    string? From,
    string? To,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? AnsweredAt,
    DateTimeOffset? EndedAt,
    long? LastSequence,
    DateTimeOffset? LastProviderTime,
    int AppliedTransitions);
