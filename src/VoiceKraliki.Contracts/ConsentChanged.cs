namespace VoiceKraliki.Contracts;

/// <summary>A consent event was recorded (given, withdrawn or expired) for a phone number and a purpose.</summary>
public sealed record ConsentChanged(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    Guid ConsentEventId,
    string PhoneNumberHash,
    string ConsentType,
    string Action,
    string Jurisdiction,
    DateTimeOffset? ExpiresAt) : IIntegrationEvent;
