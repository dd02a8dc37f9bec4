using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Rules;

/// <summary>
/// Checks rules and reads rule files (<c>{"rules": [...]}</c>), reporting every problem keyed by the JSON path of the
/// field that is wrong (<c>rules[2].threshold</c>, <c>labels.severity</c>, <c>for</c>), in the shape
/// <c>TypedResults.ValidationProblem</c> takes. Nothing here throws on bad input: malformed JSON is an error at
/// <c>$</c>.
/// </summary>
public sealed partial class RuleValidator
{
    public const int MaxNameLength = 100;
    public const int MaxValueLength = 2000;
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(24);

    /// <summary>The key of an error about the document as a whole (malformed JSON, not an object).</summary>
    public const string RootPath = "$";

    private static readonly string[] RuleFields =
        ["name", "signal", "comparison", "threshold", "for", "keep_firing_for", "labels", "annotations", "enabled"];

    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip };

    private readonly string[] _knownSignals;

    public RuleValidator(IReadOnlyCollection<string> knownSignals)
    {
        ArgumentNullException.ThrowIfNull(knownSignals);
        _knownSignals = [.. knownSignals.Distinct(StringComparer.Ordinal)];
    }

    public IReadOnlyCollection<string> KnownSignals => _knownSignals;

    /// <summary>One rule (as an API binds it); an empty result means it is valid. Keys are field paths: <c>labels.severity</c>.</summary>
    public IReadOnlyDictionary<string, string[]> Validate(AlertRule? rule)
    {
        var errors = new Errors();
        if (rule is null)
        {
            errors.Add(RootPath, "A rule is required.");
        }
        else
        {
            Check(rule, "", errors);
        }

        return errors.ToDictionary();
    }

    /// <summary>A set of rules, as a file holds them: each rule, and that names are unique. Keys: <c>rules[2].threshold</c>.</summary>
    public IReadOnlyDictionary<string, string[]> ValidateAll(IReadOnlyList<AlertRule?> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var errors = new Errors();
        for (var i = 0; i < rules.Count; i++)
        {
            if (rules[i] is { } rule)
            {
                Check(rule, RulePath(i), errors);
            }
            else
            {
                errors.Add(RulePath(i), "A rule is required here.");
            }
        }

        CheckUniqueNames(rules, errors);
        return errors.ToDictionary();
    }

    /// <summary>
    /// Reads a rule file, <c>{"rules": [...]}</c>. True when it is well-formed and every rule is valid; otherwise
    /// <paramref name="rules"/> is empty and <paramref name="errors"/> names every wrong field, unknown field and
    /// duplicate name by its path. Comments are allowed.
    /// </summary>
    public static bool TryParse(
        string json,
        IReadOnlyCollection<string> knownSignals,
        out IReadOnlyList<AlertRule> rules,
        out IReadOnlyDictionary<string, string[]> errors)
    {
        var validator = new RuleValidator(knownSignals);
        var found = new Errors();
        var parsed = new List<AlertRule?>();
        using (var document = Parse(json, found))
        {
            if (document is not null)
            {
                validator.ReadFile(document.RootElement, parsed, found);
            }
        }

        CheckUniqueNames(parsed, found);
        errors = found.ToDictionary();
        rules = errors.Count == 0 ? [.. parsed.OfType<AlertRule>()] : [];
        return errors.Count == 0;
    }

    /// <summary>
    /// Reads one rule, a JSON object, with the same strictness as a file (type errors, unknown and repeated fields by
    /// path), for an API that wants more than model binding reports. <paramref name="rule"/> is null unless valid.
    /// </summary>
    public static bool TryParseRule(
        string json,
        IReadOnlyCollection<string> knownSignals,
        out AlertRule? rule,
        out IReadOnlyDictionary<string, string[]> errors)
    {
        var validator = new RuleValidator(knownSignals);
        var found = new Errors();
        AlertRule? read = null;
        using (var document = Parse(json, found))
        {
            if (document is not null)
            {
                read = validator.ReadRule(document.RootElement, "", found);
            }
        }

        errors = found.ToDictionary();
        rule = errors.Count == 0 ? read : null;
        return errors.Count == 0;
    }

    private static JsonDocument? Parse(string? json, Errors errors)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            errors.Add(RootPath, "The document is empty; expected a JSON object.");
            return null;
        }

        try
        {
            return JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            var reason = e.Message;
            var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut >= 0)
            {
                reason = reason[..cut];
            }

            var at = e.LineNumber is { } line
                ? string.Create(CultureInfo.InvariantCulture, $" (line {line + 1}, position {(e.BytePositionInLine ?? 0) + 1})")
                : "";
            errors.Add(RootPath, $"Malformed JSON{at}: {reason}");
            return null;
        }
    }

    private void ReadFile(JsonElement root, List<AlertRule?> rules, Errors errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add(RootPath, $"Expected a JSON object {{\"rules\": [...]}}, found {Describe(root)}.");
            return;
        }

        var sawRules = false;
        foreach (var property in root.EnumerateObject())
        {
            var path = Field("", property.Name);
            if (property.Name != "rules")
            {
                errors.Add(path, "Unknown field; a rule file has only \"rules\".");
                continue;
            }

            if (sawRules)
            {
                errors.Add(path, "The field appears more than once.");
                continue;
            }

            sawRules = true;
            if (property.Value.ValueKind != JsonValueKind.Array)
            {
                errors.Add(path, $"Must be a list of rules, found {Describe(property.Value)}.");
                continue;
            }

            var index = 0;
            foreach (var element in property.Value.EnumerateArray())
            {
                rules.Add(ReadRule(element, RulePath(index++), errors));
            }
        }

        if (!sawRules)
        {
            errors.Add("rules", "Required: the list of rules.");
        }
    }

    /// <summary>Reads a rule object, reporting type errors, then checks what could be read (below any type error).</summary>
    private AlertRule? ReadRule(JsonElement element, string prefix, Errors errors)
    {
        var at = prefix.Length == 0 ? RootPath : prefix;
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add(at, $"Expected a rule (a JSON object), found {Describe(element)}.");
            return null;
        }

        var readErrors = new Errors();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var rule = new AlertRule();
        foreach (var property in element.EnumerateObject())
        {
            var path = Field(prefix, property.Name);
            if (!seen.Add(property.Name))
            {
                readErrors.Add(path, "The field appears more than once.");
                continue;
            }

            var value = property.Value;
            switch (property.Name)
            {
                case "name":
                    rule = rule with { Name = ReadString(value, path, readErrors) };
                    break;
                case "signal":
                    rule = rule with { Signal = ReadString(value, path, readErrors) };
                    break;
                case "comparison":
                    rule = rule with { Comparison = ReadString(value, path, readErrors) };
                    break;
                case "threshold":
                    rule = rule with { Threshold = ReadNumber(value, path, readErrors) };
                    break;
                case "for":
                    rule = rule with { For = ReadString(value, path, readErrors, "a duration such as \"5m\"") };
                    break;
                case "keep_firing_for":
                    rule = rule with { KeepFiringFor = ReadString(value, path, readErrors, "a duration such as \"1m\"") };
                    break;
                case "labels":
                    rule = rule with { Labels = ReadStringMap(value, path, readErrors) };
                    break;
                case "annotations":
                    rule = rule with { Annotations = ReadStringMap(value, path, readErrors) };
                    break;
                case "enabled":
                    if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        rule = rule with { Enabled = value.GetBoolean() };
                    }
                    else
                    {
                        readErrors.Add(path, $"Must be true or false, found {Describe(value)}.");
                    }

                    break;
                default:
                    readErrors.Add(path, UnknownFieldMessage);
                    break;
            }
        }

        var checks = new Errors();
        Check(rule, prefix, checks);
        errors.AddAll(readErrors);
        foreach (var (path, messages) in checks.Entries)
        {
            // A field of the wrong type reads as missing; its type error is the one worth reading.
            if (!readErrors.CoversPath(path))
            {
                foreach (var message in messages)
                {
                    errors.Add(path, message);
                }
            }
        }

        return rule;
    }

    private void Check(AlertRule rule, string prefix, Errors errors)
    {
        var namePath = Field(prefix, "name");
        if (string.IsNullOrEmpty(rule.Name))
        {
            errors.Add(namePath, "Required.");
        }
        else if (rule.Name.Length > MaxNameLength)
        {
            errors.Add(namePath, $"At most {MaxNameLength} characters (it has {rule.Name.Length}).");
        }
        else if (!RuleNamePattern().IsMatch(rule.Name))
        {
            errors.Add(namePath, "Only letters, digits, '_' and '-' are allowed.");
        }

        var signalPath = Field(prefix, "signal");
        if (string.IsNullOrEmpty(rule.Signal))
        {
            errors.Add(signalPath, "Required.");
        }
        else if (!_knownSignals.Contains(rule.Signal, StringComparer.Ordinal))
        {
            errors.Add(signalPath, $"Unknown signal '{rule.Signal}'; known signals: {string.Join(", ", _knownSignals)}.");
        }

        var comparisonPath = Field(prefix, "comparison");
        if (string.IsNullOrEmpty(rule.Comparison))
        {
            errors.Add(comparisonPath, "Required.");
        }
        else if (!RuleComparison.IsKnown(rule.Comparison))
        {
            errors.Add(comparisonPath, $"Unknown comparison '{rule.Comparison}'; use one of {string.Join(" ", RuleComparison.Operators)}.");
        }

        var thresholdPath = Field(prefix, "threshold");
        if (rule.Threshold is not { } threshold)
        {
            errors.Add(thresholdPath, "Required: a number.");
        }
        else if (!double.IsFinite(threshold))
        {
            errors.Add(thresholdPath, "Must be a finite number.");
        }

        CheckDuration(rule.For, Field(prefix, "for"), errors);
        CheckDuration(rule.KeepFiringFor, Field(prefix, "keep_firing_for"), errors);
        CheckLabels(rule.Labels, Field(prefix, "labels"), errors);
        CheckAnnotations(rule.Annotations, Field(prefix, "annotations"), errors);

        if (rule.UnknownFields is { } unknown)
        {
            foreach (var name in unknown.Keys.Order(StringComparer.Ordinal))
            {
                errors.Add(Field(prefix, name), UnknownFieldMessage);
            }
        }
    }

    private static void CheckDuration(string? text, string path, Errors errors)
    {
        if (!PromDuration.TryParse(text, out var duration))
        {
            errors.Add(path, $"'{text}' is not a duration; use whole numbers with units, largest first, such as 30s, 5m or 1h30m.");
        }
        else if (duration > MaxDuration)
        {
            errors.Add(path, $"At most 24h (it is {PromDuration.Format(duration)}).");
        }
    }

    private static void CheckLabels(IReadOnlyDictionary<string, string>? labels, string path, Errors errors)
    {
        var severityPath = path + Member(AlertSnapshot.SeverityLabel);
        var severities = string.Join(", ", AlertRule.Severities);
        if (labels is null || !labels.TryGetValue(AlertSnapshot.SeverityLabel, out var severity) || string.IsNullOrEmpty(severity))
        {
            errors.Add(severityPath, $"Required: one of {severities}.");
        }
        else if (!AlertRule.Severities.Contains(severity, StringComparer.Ordinal))
        {
            errors.Add(severityPath, $"Unknown severity '{severity}'; use one of {severities}.");
        }

        foreach (var (name, value) in labels ?? new Dictionary<string, string>())
        {
            var labelPath = path + Member(name);
            if (!LabelNamePattern().IsMatch(name))
            {
                errors.Add(labelPath, "Not a valid label name: a letter or '_', then letters, digits or '_'.");
            }
            else if (name == AlertSnapshot.AlertNameLabel)
            {
                errors.Add(labelPath, "Reserved: alertname is the rule's name.");
            }
            else if (name.StartsWith("__", StringComparison.Ordinal))
            {
                errors.Add(labelPath, "Reserved: label names starting with '__' are internal.");
            }

            CheckValue(value, labelPath, errors);
        }
    }

    private static void CheckAnnotations(IReadOnlyDictionary<string, string>? annotations, string path, Errors errors)
    {
        if (annotations is null || !annotations.TryGetValue(AlertRule.SummaryAnnotation, out var summary) || string.IsNullOrWhiteSpace(summary))
        {
            errors.Add(path + Member(AlertRule.SummaryAnnotation), "Required: one line saying what is wrong.");
        }

        foreach (var (name, value) in annotations ?? new Dictionary<string, string>())
        {
            var annotationPath = path + Member(name);
            if (!LabelNamePattern().IsMatch(name))
            {
                errors.Add(annotationPath, "Not a valid annotation name: a letter or '_', then letters, digits or '_'.");
            }

            if (CheckValue(value, annotationPath, errors) && name == AlertRule.RunbookUrlAnnotation && !IsHttpUrl(value))
            {
                errors.Add(annotationPath, "Must be an absolute http or https URL.");
            }
        }
    }

    private static bool CheckValue(string? value, string path, Errors errors)
    {
        if (value is null)
        {
            errors.Add(path, "Must be a string.");
            return false;
        }

        if (value.Length > MaxValueLength)
        {
            errors.Add(path, $"At most {MaxValueLength} characters (it has {value.Length}).");
            return false;
        }

        return true;
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) &&
        (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) &&
        !string.IsNullOrEmpty(uri.Host);

    private static void CheckUniqueNames(IReadOnlyList<AlertRule?> rules, Errors errors)
    {
        // Case-insensitive: names end up in URLs and database keys, where "CallDrop" and "calldrop" should not both exist.
        var first = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < rules.Count; i++)
        {
            if (rules[i]?.Name is not { Length: > 0 } name)
            {
                continue;
            }

            if (first.TryGetValue(name, out var earlier))
            {
                errors.Add(Field(RulePath(i), "name"), $"Duplicate rule name '{name}': {RulePath(earlier)} has the same name (names are compared ignoring case).");
            }
            else
            {
                first[name] = i;
            }
        }
    }

    private static string? ReadString(JsonElement value, string path, Errors errors, string expected = "a string")
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                return value.GetString();
            case JsonValueKind.Null:
                return null;
            default:
                errors.Add(path, $"Must be {expected}, found {Describe(value)}.");
                return null;
        }
    }

    private static double? ReadNumber(JsonElement value, string path, Errors errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number))
        {
            errors.Add(path, $"Must be a number, found {Describe(value)}.");
            return null;
        }

        return number;
    }

    private static Dictionary<string, string>? ReadStringMap(JsonElement value, string path, Errors errors)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, $"Must be an object of names to strings, found {Describe(value)}.");
            return null;
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            var entryPath = path + Member(property.Name);
            if (map.ContainsKey(property.Name))
            {
                errors.Add(entryPath, "The name appears more than once.");
            }
            else if (property.Value.ValueKind != JsonValueKind.String)
            {
                errors.Add(entryPath, $"Must be a string, found {Describe(property.Value)}.");
            }
            else
            {
                map[property.Name] = property.Value.GetString()!;
            }
        }

        return map;
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static readonly string UnknownFieldMessage = $"Unknown field; a rule has {string.Join(", ", RuleFields)}.";

    private static string RulePath(int index) => string.Create(CultureInfo.InvariantCulture, $"rules[{index}]");

    private static string Field(string prefix, string name) => prefix.Length == 0 && LabelNamePattern().IsMatch(name) ? name : prefix + Member(name);

    /// <summary><c>.name</c>, or <c>['odd name']</c> when the name is not an identifier.</summary>
    private static string Member(string name) =>
        LabelNamePattern().IsMatch(name) ? "." + name : "['" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "']";

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex RuleNamePattern();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelNamePattern();

    /// <summary>Errors by path, in the order found.</summary>
    private sealed class Errors
    {
        private readonly Dictionary<string, List<string>> _byPath = new(StringComparer.Ordinal);

        public IEnumerable<KeyValuePair<string, List<string>>> Entries => _byPath;

        public void Add(string path, string message)
        {
            if (!_byPath.TryGetValue(path, out var messages))
            {
                _byPath[path] = messages = [];
            }

            if (!messages.Contains(message, StringComparer.Ordinal))
            {
                messages.Add(message);
            }
        }

        public void AddAll(Errors other)
        {
            foreach (var (path, messages) in other._byPath)
            {
                foreach (var message in messages)
                {
                    Add(path, message);
                }
            }
        }

        /// <summary>Whether <paramref name="path"/> or a field containing it already has an error.</summary>
        public bool CoversPath(string path) =>
            _byPath.Keys.Any(known => path == known ||
                (path.Length > known.Length && path.StartsWith(known, StringComparison.Ordinal) && path[known.Length] is '.' or '['));

        public Dictionary<string, string[]> ToDictionary() =>
            _byPath.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);
    }
}
