namespace VoiceKraliki.Contracts;

/// <summary>Data reached the end of its retention period and must be deleted by whoever holds it.</summary>
public sealed record RetentionExpired(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    string DataCategory,
    string Region,
    string ResourceId,
    DateTimeOffset RetainedUntil) : IIntegrationEvent;
