namespace VoiceKraliki.Contracts;

/// <summary>One service finished erasing a subject's data.</summary>
public sealed record DataErasureCompleted(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    Guid RequestId,
    string Service,
    int ItemsErased,
    IReadOnlyList<string> Categories) : IIntegrationEvent;
