namespace VoiceKraliki.Contracts;

/// <summary>
/// Something that happened against a compliance rule (e.g. a call recorded without the consent its region requires),
/// for alerting and audit.
/// </summary>
/// <param name="Type">What kind of violation, a short kebab-case name (e.g. <c>recording-without-consent</c>).</param>
/// <param name="Region">The jurisdiction whose rule was broken (e.g. <c>US-CA</c>), when known.</param>
/// <param name="Detail">Human-readable, without personal data (no full phone numbers).</param>
public sealed record ComplianceViolationDetected(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    string Type,
    string? Region,
    string Detail) : IIntegrationEvent;
