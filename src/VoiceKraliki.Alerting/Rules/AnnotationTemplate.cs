using System.Globalization;
using System.Text;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Rules;

/// <summary>
/// The part of Prometheus' annotation templates our rules use: <c>{{ $labels.provider }}</c> (an alert label, empty
/// when the alert has no such label, as in Prometheus), <c>{{ $value }}</c> and <c>{{ $threshold }}</c>. Anything else
/// between braces is left as written, so a typo shows in the notification instead of vanishing. Never throws.
/// </summary>
public static class AnnotationTemplate
{
    private const string LabelsPrefix = "$labels.";

    /// <summary>Every annotation of a rule expanded for one alert.</summary>
    public static IReadOnlyDictionary<string, string> ExpandAll(
        IReadOnlyDictionary<string, string>? annotations, LabelSet labels, double value, double? threshold)
    {
        var expanded = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, template) in annotations ?? new Dictionary<string, string>())
        {
            expanded[name] = Expand(template, labels, value, threshold);
        }

        return expanded;
    }

    public static string Expand(string? template, LabelSet? labels, double value, double? threshold)
    {
        if (string.IsNullOrEmpty(template))
        {
            return "";
        }

        var text = template.AsSpan();
        var result = new StringBuilder(template.Length);
        while (true)
        {
            var open = text.IndexOf("{{", StringComparison.Ordinal);
            if (open < 0)
            {
                result.Append(text);
                return result.ToString();
            }

            var close = text[(open + 2)..].IndexOf("}}", StringComparison.Ordinal);
            if (close < 0)
            {
                result.Append(text);
                return result.ToString();
            }

            close += open + 2;

            // In "{{ {{ $value }}" the placeholder is the innermost pair; the stray braces stay as text.
            open = text[..close].LastIndexOf("{{", StringComparison.Ordinal);
            result.Append(text[..open]);
            var inner = text[(open + 2)..close].Trim();
            var placeholder = text[open..(close + 2)];
            if (inner.SequenceEqual("$value"))
            {
                result.Append(FormatNumber(value));
            }
            else if (inner.SequenceEqual("$threshold"))
            {
                result.Append(threshold is { } t ? FormatNumber(t) : "");
            }
            else if (inner.StartsWith(LabelsPrefix, StringComparison.Ordinal) && IsLabelName(inner[LabelsPrefix.Length..]))
            {
                var name = inner[LabelsPrefix.Length..].ToString();
                result.Append(labels is not null && labels.TryGetValue(name, out var label) ? label : "");
            }
            else
            {
                result.Append(placeholder);
            }

            text = text[(close + 2)..];
        }
    }

    /// <summary>
    /// Invariant culture, at most four decimals (0.1235, 512), but four significant digits below 1 so a small value
    /// does not print as 0 (0.00001234); NaN and infinities as Prometheus prints them.
    /// </summary>
    public static string FormatNumber(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "+Inf" : "-Inf";
        }

        if (value == 0)
        {
            return "0";
        }

        var magnitude = Math.Abs(value);
        var decimals = magnitude >= 1 ? 4 : 3 - (int)Math.Floor(Math.Log10(magnitude));
        if (decimals > 15)
        {
            return value.ToString("G4", CultureInfo.InvariantCulture);
        }

        var rounded = Math.Round(value, decimals, MidpointRounding.AwayFromZero);
        return rounded == 0 ? "0" : rounded.ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture);
    }

    private static bool IsLabelName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || !(char.IsAsciiLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}
