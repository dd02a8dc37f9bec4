using System.ComponentModel.DataAnnotations;
using VoiceKraliki.Compliance.Regions;

namespace VoiceKraliki.Compliance.Retention;

/// <summary>
/// What happens to one category of data in a region, and when: <c>delete</c> removes it (and the provider's copy),
/// <c>anonymize</c> keeps the record (e.g. call metadata for billing) with the phone numbers masked to their last
/// four digits.
/// </summary>
public sealed class RetentionRule
{
    public const string Delete = "delete";
    public const string Anonymize = "anonymize";

    public string Action { get; set; } = Delete;

    /// <summary>Days after the call ended.</summary>
    public int AfterDays { get; set; }
}

/// <summary>One region's policy, by data category.</summary>
public sealed class RegionPolicy
{
    public RetentionRule Recordings { get; set; } = new();

    public RetentionRule Transcripts { get; set; } = new();

    /// <summary>The call record itself (who called whom, when, how it ended).</summary>
    public RetentionRule CallMetadata { get; set; } = new();

    /// <summary>Why these numbers: the law or decision they come from.</summary>
    public string Basis { get; set; } = "";
}

/// <summary>
/// Retention per region (<c>Compliance:Retention:Regions:{US|EU|UK|CA|AU|APAC|OTHER}</c>). Defaults follow the audit:
/// EU recordings 30 days and transcripts 90; US 365 / 730; UK 60 with anonymization; CA 180. AU, APAC and OTHER are set
/// explicitly here (docs/compliance.md says why); OTHER, which also covers numbers whose region is unknown, is the
/// strictest. A configured region replaces that region's default as a whole.
/// </summary>
public sealed class RetentionOptions : IValidatableObject
{
    public const string SectionName = "Compliance:Retention";

    public Dictionary<string, RegionPolicy> Regions { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public static IReadOnlyDictionary<Region, RegionPolicy> Defaults { get; } = new Dictionary<Region, RegionPolicy>
    {
        [Region.EU] = Policy(30, 90, 365, anonymizeMetadata: true,
            "GDPR storage limitation (Art. 5(1)(e)); the audit's EU figures: recordings 30 days, transcripts 90. Call records are kept a year for billing with numbers masked."),
        [Region.UK] = Policy(60, 60, 60, anonymizeMetadata: true,
            "UK GDPR; the audit's UK figure: 60 days with anonymization. Recordings and transcripts are deleted at 60 days; call records are anonymized then (numbers masked) and kept for billing."),
        [Region.US] = Policy(365, 730, 2555, anonymizeMetadata: false,
            "The audit's US figures: recordings 365 days, transcripts 730. Call records are kept seven years (tax and billing records)."),
        [Region.CA] = Policy(180, 365, 2555, anonymizeMetadata: false,
            "PIPEDA principle 4.5 (keep only as long as needed); the audit's CA figure: 180 days. Call records are kept seven years (CRA)."),
        [Region.AU] = Policy(90, 180, 2555, anonymizeMetadata: false,
            "Set explicitly (the audit gives none): APP 11.2 requires destroying personal information no longer needed; 90 days of recordings covers disputes. Call records seven years (ATO)."),
        [Region.APAC] = Policy(90, 180, 1825, anonymizeMetadata: true,
            "Set explicitly (the audit gives none): the region's laws (e.g. Singapore PDPA s. 25, Japan APPI) require deletion once the purpose ends; 90 days, and call records five years with numbers masked."),
        [Region.OTHER] = Policy(30, 30, 365, anonymizeMetadata: true,
            "The strictest: also numbers whose region is unknown. Recordings and transcripts 30 days; call records a year with numbers masked."),
    };

    /// <summary>The policy in force for a region: configured, else the default.</summary>
    public RegionPolicy For(Region region) =>
        Regions.TryGetValue(region.ToString(), out var configured) ? configured : Defaults[region];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, policy) in Regions)
        {
            var key = $"{SectionName}:Regions:{name}";
            if (!Enum.TryParse<Region>(name, ignoreCase: true, out _))
            {
                yield return new ValidationResult($"{key}: unknown region; the regions are {string.Join(", ", Enum.GetNames<Region>())}.", [nameof(Regions)]);
                continue;
            }

            foreach (var (category, rule) in new[] { ("Recordings", policy.Recordings), ("Transcripts", policy.Transcripts), ("CallMetadata", policy.CallMetadata) })
            {
                if (rule.Action is not (RetentionRule.Delete or RetentionRule.Anonymize))
                {
                    yield return new ValidationResult($"{key}:{category}:Action must be 'delete' or 'anonymize'; it is '{rule.Action}'.", [nameof(Regions)]);
                }

                if (rule.AfterDays is < 1 or > 36500)
                {
                    yield return new ValidationResult($"{key}:{category}:AfterDays must be between 1 and 36500; it is {rule.AfterDays}.", [nameof(Regions)]);
                }
            }

            if (policy.Recordings.Action != RetentionRule.Delete)
            {
                yield return new ValidationResult($"{key}:Recordings:Action must be 'delete': audio cannot be anonymized.", [nameof(Regions)]);
            }

            if (policy.Recordings.AfterDays > policy.CallMetadata.AfterDays)
            {
                yield return new ValidationResult($"{key}: recordings cannot outlive the call record they belong to (Recordings:AfterDays > CallMetadata:AfterDays).", [nameof(Regions)]);
            }
        }
    }

    /// <summary>The rule for one category (<see cref="VoiceKraliki.Contracts.DataCategories"/>) of a region's policy.</summary>
    public static RetentionRule RuleFor(RegionPolicy policy, string category)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return category switch
        {
            VoiceKraliki.Contracts.DataCategories.Recording => policy.Recordings,
            VoiceKraliki.Contracts.DataCategories.Transcript => policy.Transcripts,
            VoiceKraliki.Contracts.DataCategories.CallMetadata => policy.CallMetadata,
            _ => throw new ArgumentOutOfRangeException(nameof(category), category, "Not a data category."),
        };
    }

    /// <summary>
    /// The rule that governs a call's data of one category: of its two parties' regions, the one whose policy acts
    /// first; on a tie, deleting wins over anonymizing. Returns that region with its rule.
    /// </summary>
    public (Region Region, RetentionRule Rule) Governing(string category, Region from, Region to)
    {
        var a = RuleFor(For(from), category);
        var b = RuleFor(For(to), category);
        if (a.AfterDays != b.AfterDays)
        {
            return a.AfterDays < b.AfterDays ? (from, a) : (to, b);
        }

        return a.Action == RetentionRule.Delete || b.Action != RetentionRule.Delete ? (from, a) : (to, b);
    }

    private static RegionPolicy Policy(int recordings, int transcripts, int metadata, bool anonymizeMetadata, string basis) => new()
    {
        Recordings = new RetentionRule { Action = RetentionRule.Delete, AfterDays = recordings },
        Transcripts = new RetentionRule { Action = RetentionRule.Delete, AfterDays = transcripts },
        CallMetadata = new RetentionRule { Action = anonymizeMetadata ? RetentionRule.Anonymize : RetentionRule.Delete, AfterDays = metadata },
        Basis = basis,
    };
}
