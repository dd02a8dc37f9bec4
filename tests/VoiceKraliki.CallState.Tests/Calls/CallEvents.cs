using VoiceKraliki.CallState.Calls;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Events;

namespace VoiceKraliki.CallState.Tests.Calls;

/// <summary>Call events as webhook-ingress publishes them, mapped through the real <see cref="CallStatusMapping"/>.</summary>
internal static class CallEvents
{
    public const string CallId = "CA0123456789abcdef0123456789abcdef";

    public static readonly DateTimeOffset T0 = new(2025, 6, 10, 12, 0, 0, TimeSpan.Zero);

    private static readonly IReadOnlyDictionary<string, string> NoFields = new Dictionary<string, string>();

    /// <summary>A Twilio status callback: <paramref name="second"/> seconds after <see cref="T0"/> (Twilio sends whole seconds).</summary>
    public static CallEventReceived Twilio(string callStatus, long? sequence, int second, string? answeredBy = null)
    {
        var (status, endReason) = CallStatusMapping.FromTwilio(callStatus, answeredBy);
        return Make(TelephonyProvider.Twilio, TwilioEventTypes.ForCallStatus(callStatus) ?? "call.unknown", status, endReason,
            sequence, T0.AddSeconds(second)) with
        {
            ProviderStatus = callStatus,
            AnsweredBy = answeredBy,
        };
    }

    /// <summary>A Twilio callback that carries no call status (a recording or AMD callback).</summary>
    public static CallEventReceived TwilioWithoutStatus(string eventType, int second) =>
        Make(TelephonyProvider.Twilio, eventType, null, CallEndReason.None, null, T0.AddSeconds(second));

    /// <summary>A Telnyx webhook: <paramref name="millisecond"/> ms after <see cref="T0"/>, no sequence number.</summary>
    public static CallEventReceived Telnyx(string eventType, int millisecond, string? hangupCause = null)
    {
        var (status, endReason) = CallStatusMapping.FromTelnyx(eventType, hangupCause);
        return Make(TelephonyProvider.Telnyx, eventType, status, endReason, null, T0.AddMilliseconds(millisecond)) with
        {
            HangupCause = hangupCause,
        };
    }

    /// <summary>An event straight to <paramref name="status"/>, for table-driven tests.</summary>
    public static CallEventReceived To(CallStatus? status, int second = 10, long? sequence = null,
        CallEndReason? endReason = null, TelephonyProvider provider = TelephonyProvider.Twilio) =>
        Make(provider, status is null ? "call.dtmf.received" : "call." + status.Value.ToString().ToLowerInvariant(), status,
            endReason ?? (status is { } s && CallStateMachine.IsTerminal(s) ? CallEndReason.Normal : CallEndReason.None),
            sequence, T0.AddSeconds(second));

    public static CallEventReceived Make(TelephonyProvider provider, string eventType, CallStatus? status,
        CallEndReason endReason, long? sequence, DateTimeOffset occurredAt) => new(
        EventId: Guid.NewGuid(),
        OccurredAt: occurredAt,
        CorrelationId: "corr-" + CallId,
        Provider: provider,
        ProviderCallId: CallId,
        SessionId: "session-1",
        EventType: eventType,
        ProviderStatus: null,
        Status: status,
        EndReason: endReason,
        From: "+420600000001",
        To: "+420600000002",
        Direction: CallDirection.Outbound,
        Sequence: sequence,
        AnsweredBy: null,
        HangupCause: null,
        ReceivedAt: occurredAt.AddMilliseconds(250),
        RawFields: NoFields);

    /// <summary>A known call in <paramref name="status"/>, last updated by an event <paramref name="second"/> seconds after T0.</summary>
    public static CallSnapshot Snapshot(CallStatus status, int second = 5, long? lastSequence = null,
        TelephonyProvider provider = TelephonyProvider.Twilio)
    {
        var at = T0.AddSeconds(second);
        var terminal = CallStateMachine.IsTerminal(status);
        return new CallSnapshot(
            ProviderCallId: CallId,
            SessionId: "session-1",
            Provider: provider,
            Direction: CallDirection.Outbound,
            Status: status,
            EndReason: terminal ? CallEndReason.Normal : CallEndReason.None,
            From: "+420600000001",
            To: "+420600000002",
            CreatedAt: T0,
            UpdatedAt: at,
            AnsweredAt: status is CallStatus.Answered or CallStatus.OnHold or CallStatus.Transferring ? at : null,
            EndedAt: terminal ? at : null,
            LastSequence: lastSequence,
            LastProviderTime: at,
            AppliedTransitions: 2);
    }

    /// <summary>Feeds <paramref name="events"/> in the given order, persisting every decision's snapshot as call-state would.</summary>
    public static (CallSnapshot? Final, List<TransitionDecision> Decisions) Run(IEnumerable<CallEventReceived> events, CallSnapshot? start = null)
    {
        var call = start;
        var decisions = new List<TransitionDecision>();
        foreach (var e in events)
        {
            var decision = CallStateMachine.Decide(call, e);
            decisions.Add(decision);
            call = decision.Next;
        }

        return (call, decisions);
    }
}
