namespace VoiceKraliki.Contracts;

/// <summary>A provider's API became healthy, degraded or unavailable from our side.</summary>
public sealed record ProviderHealthChanged(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    TelephonyProvider Provider,
    string Status,
    string? Reason,
    double? ErrorRate,
    double? LatencyP95Milliseconds) : IIntegrationEvent;
