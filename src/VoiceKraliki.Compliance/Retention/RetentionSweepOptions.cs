using System.ComponentModel.DataAnnotations;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Compliance.Retention;

/// <summary>
/// Bound from <c>Compliance:Retention:Sweep</c>: how often the elected instance sweeps, and which services hold each
/// category of data and must confirm its deletion. A category with no holder is not swept (the report lists it).
/// </summary>
public sealed class RetentionSweepOptions : IValidatableObject
{
    public const string SectionName = "Compliance:Retention:Sweep";

    /// <summary>How often a scheduled sweep runs.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often an instance that is not the sweeper tries to become it, and the sweeper looks for requested sweeps
    /// (a request made on the sweeping instance itself starts at once).
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Items marked and published per transaction.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>An item not confirmed by every holder this long after its event is published again.</summary>
    public TimeSpan ConfirmationTimeout { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Services holding recordings, comma-separated.</summary>
    public string RecordingHolders { get; set; } = "media-bridge";

    /// <summary>Services holding transcripts, comma-separated; none yet.</summary>
    public string TranscriptHolders { get; set; } = "";

    /// <summary>Services holding call records, comma-separated.</summary>
    public string CallMetadataHolders { get; set; } = "call-state";

    /// <summary>Each category's holders, in category order; a category absent here has none.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Holders => new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        [DataCategories.Recording] = Split(RecordingHolders),
        [DataCategories.Transcript] = Split(TranscriptHolders),
        [DataCategories.CallMetadata] = Split(CallMetadataHolders),
    }.Where(h => h.Value.Count > 0).ToDictionary(StringComparer.Ordinal);

    private static string[] Split(string services) =>
        [.. (services ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Interval < TimeSpan.FromSeconds(1) || Interval > TimeSpan.FromDays(7))
        {
            yield return new ValidationResult($"{SectionName}:Interval must be between 1 second and 7 days.", [nameof(Interval)]);
        }

        if (PollInterval < TimeSpan.FromMilliseconds(100) || PollInterval > TimeSpan.FromMinutes(5))
        {
            yield return new ValidationResult($"{SectionName}:PollInterval must be between 100 ms and 5 minutes.", [nameof(PollInterval)]);
        }

        if (BatchSize is < 1 or > 10_000)
        {
            yield return new ValidationResult($"{SectionName}:BatchSize must be between 1 and 10000.", [nameof(BatchSize)]);
        }

        if (ConfirmationTimeout < TimeSpan.FromSeconds(1) || ConfirmationTimeout > TimeSpan.FromDays(7))
        {
            yield return new ValidationResult($"{SectionName}:ConfirmationTimeout must be between 1 second and 7 days.", [nameof(ConfirmationTimeout)]);
        }

        foreach (var (name, value) in new[] { (nameof(RecordingHolders), RecordingHolders), (nameof(TranscriptHolders), TranscriptHolders), (nameof(CallMetadataHolders), CallMetadataHolders) })
        {
            if (Split(value).Any(s => !s.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')))
            {
                yield return new ValidationResult($"{SectionName}:{name} must list service names (lowercase letters, digits, '-'), comma-separated.", [name]);
            }
        }
    }
}
