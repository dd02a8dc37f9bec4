namespace VoiceKraliki.Contracts;

/// <summary>
/// What every integration event carries: its own id (consumers de-duplicate on it), when it happened
/// at its source (the provider's time for call events), and the correlation id (the provider's call id).
/// </summary>
public interface IIntegrationEvent
{
    Guid EventId { get; }

    DateTimeOffset OccurredAt { get; }

    string CorrelationId { get; }
}
