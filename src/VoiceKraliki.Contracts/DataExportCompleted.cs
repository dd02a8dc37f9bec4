namespace VoiceKraliki.Contracts;

/// <summary>One service's part of a data export, as structured JSON.</summary>
public sealed record DataExportCompleted(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    Guid RequestId,
    string Service,
    string ContentJson) : IIntegrationEvent;
