using System.Text.Json;
using VoiceKraliki.Compliance.Regions;

namespace VoiceKraliki.Compliance.Consent;

/// <summary>A consent event to record (already validated).</summary>
public sealed record NewConsentEvent(
    PhoneNumber Number,
    string Type,
    string Action,
    string Jurisdiction,
    string Method,
    JsonElement Evidence,
    string Purpose,
    DateTimeOffset? ExpiresAt);

/// <summary>A recorded consent event. The number is masked: the store keeps only its keyed hash.</summary>
public sealed record ConsentEventView(
    Guid Id,
    string Number,
    string Type,
    string Action,
    string Jurisdiction,
    string Method,
    JsonElement Evidence,
    string Purpose,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset RecordedAt,
    string RecordedBy);

/// <summary>
/// The current state of one consent type for a number, derived from its newest event: <c>given</c>, <c>withdrawn</c>,
/// <c>expired</c> (an expired-event, or a given one past its expiry) or <c>none</c>.
/// </summary>
public sealed record ConsentStatus(string Type, string Status, Guid? EventId, DateTimeOffset? Since, DateTimeOffset? ExpiresAt);

/// <summary>Everything stored for a number: its current state per type and every event, oldest first.</summary>
public sealed record ConsentState(string Number, IReadOnlyList<ConsentStatus> Current, IReadOnlyList<ConsentEventView> Events);

/// <summary>A consent that is in force: the event that gave it and when it ends (null: until withdrawn).</summary>
public sealed record ActiveConsent(Guid EventId, DateTimeOffset? ExpiresAt);
