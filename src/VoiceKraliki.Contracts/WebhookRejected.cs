namespace VoiceKraliki.Contracts;

/// <summary>A webhook that failed verification or limits; never changes a call.</summary>
public sealed record WebhookRejected(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    TelephonyProvider? Provider,
    string Path,
    string Reason,
    int StatusCode,
    string? SourceAddress) : IIntegrationEvent;
