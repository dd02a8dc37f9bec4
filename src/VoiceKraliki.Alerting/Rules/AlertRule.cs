using System.Text.Json;
using System.Text.Json.Serialization;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Rules;

/// <summary>
/// An alerting rule as data, written like a Prometheus rule (snake_case JSON): when <see cref="Signal"/> compared with
/// <see cref="Threshold"/> holds for <see cref="For"/>, each breaching series becomes a firing alert. Binding never
/// fails on a missing or unknown field, so <see cref="RuleValidator.Validate"/> can name every wrong field; a rule is
/// only meaningful once it has been validated.
/// </summary>
public sealed record AlertRule
{
    public static readonly IReadOnlyList<string> Severities = ["low", "medium", "high", "critical"];

    public const string SummaryAnnotation = "summary";
    public const string DescriptionAnnotation = "description";
    public const string RunbookUrlAnnotation = "runbook_url";

    /// <summary>Letters, digits, <c>_</c> and <c>-</c>, at most 100; becomes the <c>alertname</c> label.</summary>
    [JsonPropertyName("name")]
    public string? Name { get; init; }

    /// <summary>The signal whose series are compared, e.g. <c>call_drop_rate</c>.</summary>
    [JsonPropertyName("signal")]
    public string? Signal { get; init; }

    /// <summary>One of <see cref="RuleComparison.Operators"/>: the condition is <c>value comparison threshold</c>.</summary>
    [JsonPropertyName("comparison")]
    public string? Comparison { get; init; }

    /// <summary>Nullable so that a missing threshold is an error rather than a silent 0.</summary>
    [JsonPropertyName("threshold")]
    public double? Threshold { get; init; }

    /// <summary>How long the condition must hold before pending turns firing (a <see cref="PromDuration"/>; none = 0).</summary>
    [JsonPropertyName("for")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? For { get; init; }

    /// <summary>How long a firing alert stays firing after its condition last held (anti-flap; none = 0).</summary>
    [JsonPropertyName("keep_firing_for")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? KeepFiringFor { get; init; }

    /// <summary>Put on every alert of the rule, over the series' labels; <c>severity</c> is required.</summary>
    [JsonPropertyName("labels")]
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary><c>summary</c> (required), <c>description</c>, <c>runbook_url</c>; values may be <see cref="AnnotationTemplate"/>s.</summary>
    [JsonPropertyName("annotations")]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    [JsonPropertyName("enabled")]
    public bool Enabled { get; init; } = true;

    /// <summary>Fields the JSON had that a rule does not; kept so the validator can name them instead of ignoring them.</summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? UnknownFields { get; init; }

    /// <summary><see cref="For"/> as a time span (zero when missing or not a duration).</summary>
    [JsonIgnore]
    public TimeSpan ForDuration => PromDuration.TryParse(For, out var duration) ? duration : TimeSpan.Zero;

    /// <summary><see cref="KeepFiringFor"/> as a time span (zero when missing or not a duration).</summary>
    [JsonIgnore]
    public TimeSpan KeepFiringForDuration => PromDuration.TryParse(KeepFiringFor, out var duration) ? duration : TimeSpan.Zero;

    /// <summary>The rule's labels as a label set (empty values dropped, as Prometheus does).</summary>
    [JsonIgnore]
    public LabelSet LabelSet => LabelSet.From(Labels?.Where(l => !string.IsNullOrEmpty(l.Key)));

    [JsonIgnore]
    public string Severity => Labels is not null && Labels.TryGetValue(AlertSnapshot.SeverityLabel, out var severity) && severity is not null ? severity : "medium";

    /// <summary>Whether <paramref name="value"/> breaches this rule; NaN never does, nor does a rule without a threshold.</summary>
    public bool IsBreachedBy(double value) =>
        Threshold is { } threshold && RuleComparison.Holds(Comparison, value, threshold);
}

/// <summary>The comparisons a rule may use, with Prometheus' comparison-operator semantics for NaN (never true).</summary>
public static class RuleComparison
{
    public static readonly IReadOnlyList<string> Operators = [">", ">=", "<", "<=", "==", "!="];

    public static bool IsKnown(string? comparison) => comparison is not null && Operators.Contains(comparison, StringComparer.Ordinal);

    /// <summary><c>value comparison threshold</c>; false for NaN on either side and for an unknown comparison.</summary>
    public static bool Holds(string? comparison, double value, double threshold)
    {
        if (double.IsNaN(value) || double.IsNaN(threshold))
        {
            return false;
        }

        return comparison switch
        {
            ">" => value > threshold,
            ">=" => value >= threshold,
            "<" => value < threshold,
            "<=" => value <= threshold,
            "==" => value == threshold,
            "!=" => value != threshold,
            _ => false,
        };
    }
}
