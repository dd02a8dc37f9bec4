using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.Compliance.Requests;

/// <summary>Bound from <c>Compliance:Requests</c>: who must answer a data-subject request, and by when.</summary>
public sealed class RequestOptions : IValidatableObject
{
    public const string SectionName = "Compliance:Requests";

    /// <summary>The services that hold subjects' data and must confirm an erasure, comma-separated.</summary>
    public string ErasureServices { get; set; } = "compliance,call-state,media-bridge";

    /// <summary>The services whose part makes up an export, comma-separated.</summary>
    public string ExportServices { get; set; } = "compliance,call-state";

    public IReadOnlyList<string> ErasureServiceList => Split(ErasureServices);

    public IReadOnlyList<string> ExportServiceList => Split(ExportServices);

    private static string[] Split(string services) =>
        [.. services.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];

    /// <summary>GDPR Art. 12(3): one month.</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromDays(30);

    /// <summary>A request still open this close to its deadline is reported at risk (once).</summary>
    public TimeSpan AtRiskBefore { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often open requests are checked against their deadlines.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!ErasureServiceList.Contains("compliance"))
        {
            yield return new ValidationResult($"{SectionName}:ErasureServices must list services by name, comma-separated, compliance among them.", [nameof(ErasureServices)]);
        }

        if (!ExportServiceList.Contains("compliance"))
        {
            yield return new ValidationResult($"{SectionName}:ExportServices must list services by name, comma-separated, compliance among them.", [nameof(ExportServices)]);
        }

        if (Deadline < TimeSpan.FromHours(1) || Deadline > TimeSpan.FromDays(90))
        {
            yield return new ValidationResult($"{SectionName}:Deadline must be between 1 hour and 90 days.", [nameof(Deadline)]);
        }

        if (AtRiskBefore <= TimeSpan.Zero || AtRiskBefore >= Deadline)
        {
            yield return new ValidationResult($"{SectionName}:AtRiskBefore must be positive and shorter than the deadline.", [nameof(AtRiskBefore)]);
        }

        if (CheckInterval < TimeSpan.FromMilliseconds(100) || CheckInterval > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult($"{SectionName}:CheckInterval must be between 100 ms and 1 hour.", [nameof(CheckInterval)]);
        }
    }
}
