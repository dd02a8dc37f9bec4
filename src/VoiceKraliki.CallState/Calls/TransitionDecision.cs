using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Calls;

public enum TransitionOutcome
{
    Applied,
    Ignored,
}

/// <summary>What one event does to a call, decided by <see cref="CallStateMachine.Decide"/>.</summary>
/// <param name="From">The state before; null when the call is new (or a placeholder, which has never had a state).</param>
/// <param name="To">The state after; for an ignored event the call's current state.</param>
/// <param name="EndReason">The call's end reason after the event.</param>
/// <param name="IgnoredBecause">Why an ignored event changed nothing; null exactly when the event was applied.</param>
/// <param name="Next">
/// The snapshot to persist, whatever the outcome. For an ignored event it is the current snapshot, unchanged
/// (the same instance), except for "no change": a newer event repeating the current state moves the
/// ordering watermarks (<see cref="CallSnapshot.LastSequence"/>, <see cref="CallSnapshot.LastProviderTime"/>).
/// </param>
public sealed record TransitionDecision(
    TransitionOutcome Outcome,
    CallStatus? From,
    CallStatus To,
    CallEndReason EndReason,
    string? IgnoredBecause,
    CallSnapshot Next);
