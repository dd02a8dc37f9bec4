namespace VoiceKraliki.Contracts;

/// <summary>A call moved from one state to another (published from call-state's outbox).</summary>
public sealed record CallStateChanged(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    TelephonyProvider Provider,
    string ProviderCallId,
    CallStatus? PreviousStatus,
    CallStatus Status,
    CallEndReason EndReason,
    CallDirection Direction,
    Guid CausedByEventId,
    TimeSpan? Duration) : IIntegrationEvent;
