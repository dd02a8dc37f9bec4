using VoiceKraliki.CallState.Calls;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Persistence;

/// <summary>A row of <c>call_transitions</c>: what one event did to a call, or why it did nothing.</summary>
public sealed class CallTransitionRecord
{
    /// <summary>Assigned by the database while the call's row is locked: within a call it follows commit order.</summary>
    public long Id { get; set; }

    public required string CallId { get; set; }

    public Guid EventId { get; set; }

    public required string EventType { get; set; }

    public CallStatus? FromStatus { get; set; }

    public CallStatus ToStatus { get; set; }

    public CallEndReason EndReason { get; set; }

    public TransitionOutcome Outcome { get; set; }

    public string? IgnoredBecause { get; set; }

    public long? Sequence { get; set; }

    /// <summary>When the provider says it happened.</summary>
    public DateTimeOffset ProviderTime { get; set; }

    /// <summary>When webhook-ingress received it.</summary>
    public DateTimeOffset ReceivedAt { get; set; }

    public DateTimeOffset CommittedAt { get; set; }
}
