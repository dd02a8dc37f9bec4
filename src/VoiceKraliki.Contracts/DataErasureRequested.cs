namespace VoiceKraliki.Contracts;

/// <summary>A data subject asked for erasure (GDPR Art. 17); every service holding their data answers.</summary>
public sealed record DataErasureRequested(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    Guid RequestId,
    string PhoneNumber,
    DateTimeOffset DueBy) : IIntegrationEvent;
