using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Notifications;

/// <summary>
/// One condition on one label, as Alertmanager writes it: <c>name="value"</c>, <c>name!="value"</c>,
/// <c>name=~"regex"</c>, <c>name!~"regex"</c>. Regular expressions are anchored (the whole value must match), and a
/// missing label reads as the empty string, as in Alertmanager.
/// </summary>
public sealed partial class LabelMatcher
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(50);

    private readonly Regex? _regex;

    [JsonConstructor]
    public LabelMatcher(string name, string value, bool isRegex = false, bool isEqual = true)
    {
        Name = name;
        Value = value;
        IsRegex = isRegex;
        IsEqual = isEqual;
        if (isRegex)
        {
            _regex = new Regex($"^(?:{value})$", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, RegexTimeout);
        }
    }

    public string Name { get; }

    public string Value { get; }

    public bool IsRegex { get; }

    public bool IsEqual { get; }

    public bool Matches(LabelSet labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var value = labels.TryGetValue(Name, out var v) ? v : "";
        var matched = _regex is null ? string.Equals(value, Value, StringComparison.Ordinal) : _regex.IsMatch(value);
        return matched == IsEqual;
    }

    /// <summary>Parses <c>name="value"</c> (or <c>!=</c>, <c>=~</c>, <c>!~</c>; quotes optional); the reason when it cannot.</summary>
    public static bool TryParse(string? text, out LabelMatcher? matcher, out string error)
    {
        matcher = null;
        var match = Syntax().Match(text ?? "");
        if (!match.Success)
        {
            error = "must be name=\"value\", name!=\"value\", name=~\"regex\" or name!~\"regex\"";
            return false;
        }

        var op = match.Groups["op"].Value;
        var value = match.Groups["quoted"].Success ? match.Groups["quoted"].Value.Replace("\\\"", "\"", StringComparison.Ordinal) : match.Groups["bare"].Value;
        return TryCreate(match.Groups["name"].Value, value, op.EndsWith('~'), op[0] != '!', out matcher, out error);
    }

    /// <summary>Checks a matcher given field by field (the API's JSON form).</summary>
    public static bool TryCreate(string? name, string? value, bool isRegex, bool isEqual, out LabelMatcher? matcher, out string error)
    {
        matcher = null;
        if (string.IsNullOrEmpty(name) || !LabelName().IsMatch(name))
        {
            error = "the label name must match [a-zA-Z_][a-zA-Z0-9_]*";
            return false;
        }

        if (value is null || value.Length > 1000)
        {
            error = "the value must be given, at most 1000 characters";
            return false;
        }

        try
        {
            matcher = new LabelMatcher(name, value, isRegex, isEqual);
            error = "";
            return true;
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            error = $"not a valid regular expression ({e.Message})";
            return false;
        }
    }

    public override string ToString() => $"{Name}{(IsEqual ? "" : "!")}{(IsRegex ? "=~" : "=")}\"{Value.Replace("\"", "\\\"", StringComparison.Ordinal)}\"";

    [GeneratedRegex("""^\s*(?<name>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?<op>=~|!~|!=|=)\s*(?:"(?<quoted>(?:[^"\\]|\\.)*)"|(?<bare>[^"\s]*))\s*$""")]
    private static partial Regex Syntax();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();
}
