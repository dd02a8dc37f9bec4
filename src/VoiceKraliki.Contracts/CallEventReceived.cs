namespace VoiceKraliki.Contracts;

/// <summary>A provider webhook, verified and normalized by webhook-ingress.</summary>
public sealed record CallEventReceived(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    TelephonyProvider Provider,
    string ProviderCallId,
    string? SessionId,
    string EventType,
    string? ProviderStatus,
    CallStatus? Status,
    CallEndReason EndReason,
    string? From,
    string? To,
    CallDirection Direction,
    long? Sequence,
    string? AnsweredBy,
    string? HangupCause,
    DateTimeOffset ReceivedAt,
    IReadOnlyDictionary<string, string> RawFields,
    string? LegId = null,
    string? ProviderEventId = null,
    CallRecording? Recording = null,
    string? ClientState = null) : IIntegrationEvent;

/// <summary>A recording the provider reported with a call event.</summary>
public sealed record CallRecording(string? RecordingId, string? Url, double? DurationSeconds, string? Status);
