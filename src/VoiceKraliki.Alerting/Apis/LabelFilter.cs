using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Apis;

/// <summary>The <c>label=name=value</c> query filters the alerts and signals APIs take (repeatable, all must match).</summary>
internal static class LabelFilter
{
    public const string Error = "Each label filter is name=value.";

    /// <summary>Parses the filters; false when one is not <c>name=value</c>.</summary>
    public static bool TryParse(string[]? pairs, out LabelSet labels)
    {
        var parsed = new List<KeyValuePair<string, string>>();
        foreach (var pair in pairs ?? [])
        {
            var at = pair.IndexOf('=', StringComparison.Ordinal);
            if (at <= 0 || at == pair.Length - 1)
            {
                labels = LabelSet.Empty;
                return false;
            }

            parsed.Add(new(pair[..at], pair[(at + 1)..]));
        }

        labels = LabelSet.From(parsed);
        return true;
    }
}
