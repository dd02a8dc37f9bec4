using System.Text.Json.Serialization;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.CallState.Calls;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Apis;

/// <summary>One page of <c>GET /api/calls</c>, newest first.</summary>
/// <param name="NextCursor">Pass as <c>cursor</c> for the next page; null on the last page.</param>
public sealed record CallPage(IReadOnlyList<CallView> Items, string? NextCursor);

/// <summary><c>GET /api/calls/active</c>: every live call, newest first.</summary>
public sealed record ActiveCalls(int Count, IReadOnlyList<CallView> Items);

/// <summary><c>GET /api/calls/{id}/history</c>: every event recorded for the call, in commit order.</summary>
public sealed record CallHistory(string ProviderCallId, IReadOnlyList<CallTransitionView> Items);

/// <summary>What one event did to the call (a row of <c>call_transitions</c>).</summary>
/// <param name="Id">Increases in commit order within the call.</param>
/// <param name="FromStatus">The state before; null when the event created the call.</param>
/// <param name="ToStatus">The state after; for an ignored event the state the call stayed in.</param>
/// <param name="IgnoredBecause">Why an ignored event changed nothing (<c>stale: sequence 2 &lt;= 5</c>…); null when applied.</param>
/// <param name="Sequence">The provider's sequence number (Twilio <c>SequenceNumber</c>), if any.</param>
/// <param name="ProviderTime">When the provider says it happened.</param>
/// <param name="ReceivedAt">When webhook-ingress received it.</param>
public sealed record CallTransitionView(
    long Id,
    Guid EventId,
    string EventType,
    [property: JsonConverter(typeof(JsonStringEnumConverter<TransitionOutcome>))] TransitionOutcome Outcome,
    CallStatus? FromStatus,
    CallStatus ToStatus,
    CallEndReason EndReason,
    string? IgnoredBecause,
    long? Sequence,
    DateTimeOffset ProviderTime,
    DateTimeOffset ReceivedAt,
    DateTimeOffset CommittedAt);
