using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.Compliance.Consent;

/// <summary>Bound from <c>Compliance</c> (<c>Compliance__SubjectKey</c>, …). See docs/compliance.md.</summary>
public sealed class ComplianceOptions : IValidatableObject
{
    public const string SectionName = "Compliance";

    /// <summary>
    /// Base64 of a secret of at least 32 bytes. Phone numbers are stored only as an HMAC-SHA256 under this key
    /// (and masked to their last four digits), so the database alone does not give them away; the AppHost
    /// generates one for local use. Changing it orphans every stored consent.
    /// </summary>
    public string? SubjectKey { get; set; }

    /// <summary>The controller named on consent receipts.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Compliance:Controller must name the data controller.")]
    public string Controller { get; set; } = "VoiceKraliki operator";

    /// <summary>How long a decision stays in Redis at most (a consent change invalidates it at once anyway).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Compliance:DecisionCacheTtl must be between 1 second and 1 day.")]
    public TimeSpan DecisionCacheTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The largest evidence object accepted with a consent event, as UTF-8 JSON.</summary>
    [Range(256, 65536, ErrorMessage = "Compliance:MaxEvidenceBytes must be between 256 and 65536.")]
    public int MaxEvidenceBytes { get; set; } = 4096;

    public byte[] SubjectKeyBytes() => Convert.FromBase64String(SubjectKey!);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var valid = false;
        if (!string.IsNullOrWhiteSpace(SubjectKey))
        {
            var bytes = new byte[SubjectKey.Length];
            valid = Convert.TryFromBase64String(SubjectKey, bytes, out var written) && written >= 32;
        }

        if (!valid)
        {
            yield return new ValidationResult(
                "Compliance:SubjectKey must be the base64 of a secret of at least 32 bytes (the AppHost generates one for local use).",
                [nameof(SubjectKey)]);
        }
    }
}
