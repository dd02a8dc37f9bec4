using VoiceKraliki.Compliance.Consent;
using VoiceKraliki.Compliance.Regions;

namespace VoiceKraliki.Compliance.Decisions;

/// <summary>
/// The rules, with no I/O: what each party of a call needs before its audio is used for a purpose, and the decision
/// once the consents on file are known.
/// </summary>
/// <remarks>
/// If any party is in an all-party-consent US state (or its region cannot be told), every party needs consent, the
/// practice ALERTING-COMPLIANCE.md gives. A party in a region that requires explicit consent (EU, UK, or unknown) needs
/// its own consent whatever the other party's rule. Otherwise a US one-party state needs nothing more (our customer is
/// the consenting party), and other regions need notice. An announcement is required unless every party is in a US
/// one-party state: a consent or a notice has to be asked for or given on the call.
/// </remarks>
public static class DecisionRules
{
    public const string OnePartyConsent = "one_party_consent";
    public const string AllPartyConsent = "all_party_consent";
    public const string ExplicitConsent = "explicit_consent";
    public const string Notice = "notice";

    /// <summary>The purposes a decision can be asked for, and the consent type each needs.</summary>
    public static readonly IReadOnlyDictionary<string, string> Purposes = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["recording"] = ConsentVocabulary.Recording,
        ["transcription"] = ConsentVocabulary.Transcription,
        ["ai-processing"] = ConsentVocabulary.AiProcessing,
    };

    /// <summary>What one party needs: whether its consent is required, under which rule, and why.</summary>
    public sealed record Requirement(string Rule, bool ConsentRequired, string Basis);

    public static (Requirement From, Requirement To) Requirements(RegionLookup from, RegionLookup to)
    {
        var allParty = IsAllParty(from) || IsAllParty(to);
        return (RequirementOf(from, allParty), RequirementOf(to, allParty));
    }

    public static Decision Decide(
        string purpose,
        string consentType,
        (string Role, PhoneNumber Number, RegionLookup Region, Requirement Need, ActiveConsent? Consent) from,
        (string Role, PhoneNumber Number, RegionLookup Region, Requirement Need, ActiveConsent? Consent) to,
        DateTimeOffset now)
    {
        var parties = new[] { from, to }.Select(p => new PartyDecision(
            p.Role,
            p.Number.Masked,
            p.Region.Region.ToString(),
            p.Region.Country,
            p.Region.Subdivision,
            p.Region.Known,
            p.Need.Rule,
            p.Need.ConsentRequired,
            p.Need.ConsentRequired ? p.Consent?.EventId : null,
            p.Need.ConsentRequired ? p.Consent?.ExpiresAt : null,
            p.Need.Basis)).ToList();

        var missing = parties.Where(p => p.ConsentRequired && p.ConsentEventId is null).ToList();
        var allowed = missing.Count == 0;
        var basis = allowed
            ? parties.Any(p => p.ConsentRequired)
                ? $"Allowed: {consentType} consent on file for {string.Join(" and ", parties.Where(p => p.ConsentRequired).Select(p => $"{p.Role} ({p.ConsentEventId})"))}."
                : parties.All(p => p.Rule == OnePartyConsent)
                    ? "Allowed: every party is in a US one-party-consent state; the customer's own consent suffices."
                    : "Allowed with notice: no party's rule requires consent, but each must be told."
            : $"Denied: {consentType} consent is required and not on file for {string.Join(" and ", missing.Select(p => p.Role))}.";

        return new Decision(
            purpose,
            allowed,
            AnnouncementRequired: parties.Any(p => p.Rule != OnePartyConsent),
            basis,
            parties,
            [.. parties.Select(p => p.Region).Distinct(StringComparer.Ordinal)],
            [.. parties.Where(p => p.Subdivision is not null).Select(p => $"{p.Country}-{p.Subdivision}").Distinct(StringComparer.Ordinal)],
            now,
            Cached: false);
    }

    private static bool IsAllParty(RegionLookup region) => !region.Known || region.AllPartyConsent;

    private static Requirement RequirementOf(RegionLookup region, bool allParty)
    {
        if (!region.Known)
        {
            return new Requirement(ExplicitConsent, true, $"Region unknown, so the strictest rule applies. {region.Basis}");
        }

        if (region.ExplicitConsentRegion)
        {
            return new Requirement(ExplicitConsent, true, $"{region.Region} requires the party's explicit consent (GDPR Art. 6, 7). {region.Basis}");
        }

        if (allParty)
        {
            return new Requirement(AllPartyConsent, true,
                region.AllPartyConsent
                    ? $"An all-party-consent state: every party must consent. {region.Basis}"
                    : $"Another party is in an all-party-consent state (or unknown): every party must consent. {region.Basis}");
        }

        return region.Region == Region.US
            ? new Requirement(OnePartyConsent, false, $"A one-party-consent jurisdiction. {region.Basis}")
            : new Requirement(Notice, false, $"Notice required; consent not required by the rule we apply. {region.Basis}");
    }
}
