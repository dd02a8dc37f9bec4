namespace VoiceKraliki.Alerting.Rules;

/// <summary>The rules every installation starts with, from the embedded <c>Rules/default-rules.json</c>.</summary>
public static class DefaultRules
{
    public const string ResourceName = "VoiceKraliki.Alerting.Rules.default-rules.json";

    /// <summary>The file as shipped (JSON with comments), for an API that shows or restores it.</summary>
    public static string Json()
    {
        using var stream = typeof(DefaultRules).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>The default rules, validated against <paramref name="knownSignals"/>.</summary>
    /// <exception cref="InvalidOperationException">The shipped file is invalid: a defect of the build, not of input.</exception>
    public static IReadOnlyList<AlertRule> Load(IReadOnlyCollection<string> knownSignals)
    {
        if (RuleValidator.TryParse(Json(), knownSignals, out var rules, out var errors))
        {
            return rules;
        }

        var problems = string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));
        throw new InvalidOperationException($"The default alert rules ({ResourceName}) are invalid: {problems}");
    }
}
