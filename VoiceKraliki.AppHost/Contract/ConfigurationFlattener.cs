using Microsoft.Extensions.Configuration;

namespace VoiceKraliki.AppHost.Contract;

/// <summary>Turns a configuration section into environment variables (<c>Telephony:Twilio:AuthToken</c> → <c>Telephony__Twilio__AuthToken</c>).</summary>
public static class ConfigurationFlattener
{
    public static IEnumerable<KeyValuePair<string, string>> Flatten(IConfigurationSection section)
    {
        if (section.Value is { } own)
        {
            yield return new(ToVariableName(section.Path), own);
        }

        foreach (var child in section.AsEnumerable(makePathsRelative: false))
        {
            if (child.Value is not null && !string.Equals(child.Key, section.Path, StringComparison.OrdinalIgnoreCase))
            {
                yield return new(ToVariableName(child.Key), child.Value);
            }
        }
    }

    public static string ToVariableName(string configurationPath) =>
        configurationPath.Replace(ConfigurationPath.KeyDelimiter, "__", StringComparison.Ordinal);
}
