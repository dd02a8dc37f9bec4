using System.Globalization;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Calls;

/// <summary>
/// The call state machine: which state changes are legal and what one provider event does to a call. Pure: no
/// I/O and no clock; every time it records comes from the event. docs/call-state-machine.md explains the rules.
/// </summary>
public static class CallStateMachine
{
    /// <summary>The legal transitions. A state is never a transition to itself; terminal states have none.</summary>
    public static IReadOnlyList<(CallStatus From, CallStatus To)> Transitions { get; } =
    [
        (CallStatus.Initiated, CallStatus.Ringing),
        // Skipping forward is legal: a provider may not report ringing (Telnyx never does) or the
        // webhook may be lost, and hold or transfer is only possible on a call that was answered.
        (CallStatus.Initiated, CallStatus.Answered),
        (CallStatus.Initiated, CallStatus.OnHold),
        (CallStatus.Initiated, CallStatus.Transferring),
        (CallStatus.Initiated, CallStatus.Completed),
        (CallStatus.Initiated, CallStatus.Failed),
        (CallStatus.Ringing, CallStatus.Answered),
        (CallStatus.Ringing, CallStatus.OnHold),
        (CallStatus.Ringing, CallStatus.Transferring),
        (CallStatus.Ringing, CallStatus.Completed),
        (CallStatus.Ringing, CallStatus.Failed),
        (CallStatus.Answered, CallStatus.OnHold),
        (CallStatus.Answered, CallStatus.Transferring),
        (CallStatus.Answered, CallStatus.Completed),
        (CallStatus.OnHold, CallStatus.Answered),
        // An attended transfer usually holds the caller first, and a failed one may leave them held.
        (CallStatus.OnHold, CallStatus.Transferring),
        (CallStatus.OnHold, CallStatus.Completed),
        (CallStatus.Transferring, CallStatus.Answered),
        (CallStatus.Transferring, CallStatus.OnHold),
        (CallStatus.Transferring, CallStatus.Completed),
    ];

    private static readonly int StateCount = Enum.GetValues<CallStatus>().Length;

    private static readonly bool[] Legal = BuildLegal();

    /// <summary>Completed and Failed: a call in one of them never changes again.</summary>
    public static bool IsTerminal(CallStatus status) => status is CallStatus.Completed or CallStatus.Failed;

    /// <summary>True when <paramref name="from"/> → <paramref name="to"/> is in <see cref="Transitions"/>.</summary>
    public static bool IsLegal(CallStatus from, CallStatus to) =>
        IsKnown(from) && IsKnown(to) && Legal[((int)from * StateCount) + (int)to];

    /// <summary>
    /// Decides what <paramref name="e"/> does to the call <paramref name="current"/> (null: the first event of the call).
    /// </summary>
    /// <remarks>
    /// Checks, in order (the first that matches decides): an event without a state, a provider that is not the
    /// call's, a new call (any state creates it), a terminal call, a stale event (older by sequence number when both
    /// sides have one, else by provider time), no change of state, a transition that is not legal. An ignored event
    /// leaves a known call's snapshot as it was, except that a newer event repeating the current state moves
    /// <see cref="CallSnapshot.LastSequence"/> and <see cref="CallSnapshot.LastProviderTime"/> forward. The first event of a call without a state is ignored but
    /// still returns a placeholder snapshot (Initiated, no applied transitions) so the event can be recorded.
    /// </remarks>
    /// <exception cref="ArgumentException">The event is for another call than <paramref name="current"/>.</exception>
    public static TransitionDecision Decide(CallSnapshot? current, CallEventReceived e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (current is not null && !string.Equals(current.ProviderCallId, e.ProviderCallId, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"The event is for call {e.ProviderCallId}, not for call {current.ProviderCallId}.", nameof(e));
        }

        // A placeholder has never had a state, so the first event that has one creates the call as if it were new.
        var isNew = current is null || current.AppliedTransitions == 0;
        var basis = current ?? Placeholder(e);

        if (e.Status is not { } to)
        {
            return Ignore(basis, isNew, $"no state change in event {e.EventType}");
        }

        if (current is not null && current.Provider != e.Provider)
        {
            return Ignore(current, isNew, $"provider {e.Provider} is not the call's provider {current.Provider}");
        }

        if (!IsKnown(to))
        {
            return Ignore(basis, isNew, Invariant($"unknown state {(int)to} in event {e.EventType}"));
        }

        if (isNew)
        {
            return Apply(current, to, e);
        }

        var call = current!;
        if (IsTerminal(call.Status))
        {
            return Ignore(call, isNew, $"terminal state {call.Status}");
        }

        if (StaleBecause(call, e) is { } stale)
        {
            return Ignore(call, isNew, stale);
        }

        if (to == call.Status)
        {
            // The event confirms the state as of a later moment, so the watermarks move: otherwise, of hold(2s),
            // unhold(3s), hold(4s) arriving as hold(2s), hold(4s), unhold(3s), the late unhold would win.
            var confirmed = call with
            {
                LastSequence = Max(call.LastSequence, e.Sequence),
                LastProviderTime = Later(call.LastProviderTime, e.OccurredAt),
            };
            return Ignore(confirmed == call ? call : confirmed, isNew, $"no change: already {to}");
        }

        if (!IsLegal(call.Status, to))
        {
            return Ignore(call, isNew, $"no transition {call.Status} -> {to}");
        }

        return Apply(call, to, e);
    }

    private static string? StaleBecause(CallSnapshot call, CallEventReceived e)
    {
        if (e.Sequence is { } sequence && call.LastSequence is { } lastSequence)
        {
            return sequence <= lastSequence ? Invariant($"stale: sequence {sequence} <= {lastSequence}") : null;
        }

        if (call.LastProviderTime is { } lastTime
            && AtProviderResolution(e.Provider, e.OccurredAt) < AtProviderResolution(e.Provider, lastTime))
        {
            return Invariant($"stale: provider time {e.OccurredAt:O} < {lastTime:O}");
        }

        // Equal times cannot be ordered; the transition table decides, and it never moves a call backwards.
        return null;
    }

    /// <summary>
    /// Twilio's <c>Timestamp</c> has whole seconds, and an event without one (the voice webhook) carries the
    /// receive time with fractions; compared exactly, an answer in the same second would look older than the
    /// ringing before it. Telnyx's <c>occurred_at</c> is compared as sent.
    /// </summary>
    private static long AtProviderResolution(TelephonyProvider provider, DateTimeOffset time) =>
        provider == TelephonyProvider.Twilio
            ? time.UtcTicks - (time.UtcTicks % TimeSpan.TicksPerSecond)
            : time.UtcTicks;

    private static TransitionDecision Apply(CallSnapshot? current, CallStatus to, CallEventReceived e)
    {
        var from = current is { AppliedTransitions: > 0 } ? current.Status : (CallStatus?)null;
        var terminal = IsTerminal(to);

        // A call that ends always says why, even when the provider did not.
        var endReason = !terminal ? CallEndReason.None
            : e.EndReason == CallEndReason.None ? CallEndReason.Unknown
            : e.EndReason;

        var next = new CallSnapshot(
            ProviderCallId: e.ProviderCallId,
            SessionId: Fill(current?.SessionId, e.SessionId),
            Provider: e.Provider,
            Direction: current is null || current.Direction == CallDirection.Unknown ? e.Direction : current.Direction,
            Status: to,
            EndReason: endReason,
            From: Fill(current?.From, e.From),
            To: Fill(current?.To, e.To),
            CreatedAt: current?.CreatedAt ?? e.ReceivedAt,
            UpdatedAt: current is null || e.ReceivedAt > current.UpdatedAt ? e.ReceivedAt : current.UpdatedAt,
            AnsweredAt: current?.AnsweredAt ?? (IsConnected(to) ? e.OccurredAt : null),
            EndedAt: terminal ? e.OccurredAt : null,
            LastSequence: Max(current?.LastSequence, e.Sequence),
            LastProviderTime: Later(current?.LastProviderTime, e.OccurredAt),
            AppliedTransitions: (current?.AppliedTransitions ?? 0) + 1);

        return new TransitionDecision(TransitionOutcome.Applied, from, to, endReason, null, next);
    }

    private static TransitionDecision Ignore(CallSnapshot call, bool isNew, string because) =>
        new(TransitionOutcome.Ignored, isNew ? null : call.Status, call.Status, call.EndReason, because, call);

    /// <summary>The snapshot for a call whose first event has no state: bottom state, nothing applied, no watermark.</summary>
    private static CallSnapshot Placeholder(CallEventReceived e) => new(
        ProviderCallId: e.ProviderCallId,
        SessionId: Fill(null, e.SessionId),
        Provider: e.Provider,
        Direction: e.Direction,
        Status: CallStatus.Initiated,
        EndReason: CallEndReason.None,
        From: Fill(null, e.From),
        To: Fill(null, e.To),
        CreatedAt: e.ReceivedAt,
        UpdatedAt: e.ReceivedAt,
        AnsweredAt: null,
        EndedAt: null,
        LastSequence: null,
        LastProviderTime: null,
        AppliedTransitions: 0);

    private static bool IsConnected(CallStatus status) =>
        status is CallStatus.Answered or CallStatus.OnHold or CallStatus.Transferring;

    private static bool IsKnown(CallStatus status) => (uint)status < (uint)StateCount;

    private static string? Fill(string? known, string? fromEvent) =>
        !string.IsNullOrEmpty(known) ? known : string.IsNullOrEmpty(fromEvent) ? null : fromEvent;

    private static long? Max(long? a, long? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static DateTimeOffset Later(DateTimeOffset? a, DateTimeOffset b) => a is { } value && value > b ? value : b;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static bool[] BuildLegal()
    {
        var legal = new bool[StateCount * StateCount];
        foreach (var (from, to) in Transitions)
        {
            legal[((int)from * StateCount) + (int)to] = true;
        }

        return legal;
    }
}
