namespace VoiceKraliki.Contracts;

/// <summary>
/// A data-subject request (export or erasure) may miss its legal deadline: services have not answered and little time
/// is left. Published once per request, for alerting.
/// </summary>
public sealed record DataSubjectRequestEndangered(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    Guid RequestId,
    string Kind,
    DateTimeOffset DueBy,
    IReadOnlyList<string> PendingServices) : IIntegrationEvent;
