namespace VoiceKraliki.Contracts;

/// <summary>A data subject asked for their data (GDPR Art. 15/20).</summary>
public sealed record DataExportRequested(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    Guid RequestId,
    string PhoneNumber,
    DateTimeOffset DueBy) : IIntegrationEvent;
