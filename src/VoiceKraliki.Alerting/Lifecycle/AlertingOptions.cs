using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.Alerting.Lifecycle;

/// <summary>Bound from <c>Alerting</c>: the evaluation tick, the key channel secrets are sealed under, and the rule file.</summary>
public sealed class AlertingOptions : IValidatableObject
{
    public const string SectionName = "Alerting";

    /// <summary>How often signals are sampled and rules evaluated.</summary>
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Base64 of at least 32 random bytes; seals channel secrets at rest (AES-256-GCM). The AppHost generates one locally.</summary>
    public string SecretKey { get; set; } = "";

    /// <summary>A JSON rule file (<c>{"rules": [...]}</c>) whose rules replace the defaults of the same name; optional.</summary>
    public string? RulesFile { get; set; }

    /// <summary>Where operators see alerts (the console), linked from notifications; optional.</summary>
    public Uri? ExternalUrl { get; set; }

    internal byte[] SecretKeyBytes => Convert.FromBase64String(SecretKey)[..32];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (EvaluationInterval < TimeSpan.FromMilliseconds(100) || EvaluationInterval > TimeSpan.FromMinutes(1))
        {
            yield return new ValidationResult($"{SectionName}:EvaluationInterval must be between 100 ms and 1 minute.", [nameof(EvaluationInterval)]);
        }

        byte[]? key = null;
        try
        {
            key = Convert.FromBase64String(SecretKey ?? "");
        }
        catch (FormatException)
        {
        }

        if (key is null || key.Length < 32)
        {
            yield return new ValidationResult($"{SectionName}:SecretKey must be the base64 of a secret of at least 32 bytes (the AppHost generates one for local use).", [nameof(SecretKey)]);
        }

        if (RulesFile is { Length: > 0 } file)
        {
            if (!File.Exists(file))
            {
                yield return new ValidationResult($"{SectionName}:RulesFile names a file that does not exist: {file}.", [nameof(RulesFile)]);
            }
            else if (!Rules.RuleValidator.TryParse(File.ReadAllText(file), Signals.SignalNames.All, out _, out var errors))
            {
                foreach (var (field, messages) in errors)
                {
                    yield return new ValidationResult($"{SectionName}:RulesFile {file}: {field}: {string.Join(" ", messages)}", [nameof(RulesFile)]);
                }
            }
        }

        if (ExternalUrl is { } url && (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https")))
        {
            yield return new ValidationResult($"{SectionName}:ExternalUrl must be an absolute http(s) URL.", [nameof(ExternalUrl)]);
        }
    }
}
