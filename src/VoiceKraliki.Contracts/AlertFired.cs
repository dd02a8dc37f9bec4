namespace VoiceKraliki.Contracts;

public sealed record AlertFired(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    string AlertId,
    string RuleName,
    string Severity,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations,
    double Value) : IIntegrationEvent;
