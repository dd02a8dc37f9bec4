namespace VoiceKraliki.Contracts;

public sealed record AlertResolved(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    string AlertId,
    string RuleName,
    IReadOnlyDictionary<string, string> Labels,
    string ResolvedBy) : IIntegrationEvent;
