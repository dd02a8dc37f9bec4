namespace VoiceKraliki.Compliance.Decisions;

/// <summary>
/// Whether a call's audio may be used for a purpose (<c>recording</c>, <c>transcription</c>, <c>ai_processing</c>), and
/// why: per party, the region and the rule that applied, and the consent event relied on.
/// </summary>
public sealed record Decision(
    string Purpose,
    bool Allowed,
    bool AnnouncementRequired,
    string Basis,
    IReadOnlyList<PartyDecision> Parties,
    IReadOnlyList<string> Regions,
    IReadOnlyList<string> States,
    DateTimeOffset DecidedAt,
    bool Cached);

/// <summary>
/// One party's part of a decision. <see cref="Rule"/>: <c>one_party_consent</c> (a US one-party state: the call's
/// other party, our customer, consents), <c>all_party_consent</c> (some party is in an all-party-consent US state),
/// <c>explicit_consent</c> (EU/UK GDPR, or a number whose region is unknown: the strictest), or <c>notice</c> (the
/// party must be told; no consent needed). <see cref="ConsentEventId"/> is the consent relied on when one was required
/// and found.
/// </summary>
public sealed record PartyDecision(
    string Role,
    string Number,
    string Region,
    string? Country,
    string? Subdivision,
    bool RegionKnown,
    string Rule,
    bool ConsentRequired,
    Guid? ConsentEventId,
    DateTimeOffset? ConsentExpiresAt,
    string Basis);
