namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// Collects what is wrong with a <see cref="ChannelConfig"/>, keyed by the field as the channels API names it
/// (<c>settings.to</c>, <c>secrets.url</c>, <c>ratePerMinute</c>). Messages never quote a secret's value.
/// </summary>
internal sealed class ChannelConfigCheck
{
    public const int MaxRatePerMinute = 6000;

    private readonly Dictionary<string, string> _errors = new(StringComparer.Ordinal);

    public ChannelConfigCheck(ChannelConfig config, string type, IReadOnlyCollection<string> settings, IReadOnlyCollection<string> secrets)
    {
        Config = config;
        if (!string.Equals(config.Type, type, StringComparison.Ordinal))
        {
            Add("type", $"must be '{type}' for this channel.");
        }

        if (string.IsNullOrWhiteSpace(config.Name))
        {
            Add("name", "is required.");
        }

        if (config.RatePerMinute is < 1 or > MaxRatePerMinute)
        {
            Add("ratePerMinute", $"must be between 1 and {MaxRatePerMinute}.");
        }

        foreach (var key in (config.Settings ?? EmptyMap).Keys.Where(k => !settings.Contains(k)))
        {
            Add($"settings.{key}", settings.Count == 0
                ? "is not a setting of this channel type (it takes none)."
                : $"is not a setting of this channel type (known: {string.Join(", ", settings)}).");
        }

        foreach (var key in (config.Secrets ?? EmptyMap).Keys.Where(k => !secrets.Contains(k)))
        {
            Add($"secrets.{key}", secrets.Count == 0
                ? "is not a secret of this channel type (it takes none)."
                : $"is not a secret of this channel type (known: {string.Join(", ", secrets)}).");
        }
    }

    private static IReadOnlyDictionary<string, string> EmptyMap { get; } = new Dictionary<string, string>();

    public ChannelConfig Config { get; }

    public IReadOnlyDictionary<string, string> Errors => _errors;

    public void Add(string field, string message) => _errors.TryAdd(field, message);

    public string? Setting(string key) => Config.Settings is { } s && s.TryGetValue(key, out var value) ? value : null;

    public string? Secret(string key) => Config.Secrets is { } s && s.TryGetValue(key, out var value) ? value : null;

    /// <summary>An absolute http(s) URL without credentials in it, required or optional.</summary>
    public Uri? HttpUrl(string field, string? value, bool required)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                Add(field, "is required: an absolute http(s) URL.");
            }

            return null;
        }

        if (!ChannelUrls.TryParse(value, out var url))
        {
            Add(field, "must be an absolute http(s) URL.");
            return null;
        }

        return url;
    }

    /// <summary>A required secret, non-empty, without whitespace or control characters.</summary>
    public string? Token(string field, string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value))
        {
            Add(field, "is required.");
            return null;
        }

        if (value.Length > maxLength || value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            Add(field, $"must be at most {maxLength} characters without spaces or control characters.");
            return null;
        }

        return value;
    }
}

internal static class ChannelUrls
{
    public static bool TryParse(string? value, out Uri url)
    {
        url = null!;
        if (string.IsNullOrWhiteSpace(value)
            || !Uri.TryCreate(value.Trim(), UriKind.Absolute, out var parsed)
            || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(parsed.Host)
            || parsed.UserInfo.Length > 0)
        {
            return false;
        }

        url = parsed;
        return true;
    }

    /// <summary>What may be said about where a request went: the host (and a non-default port), never the path.</summary>
    public static string Describe(Uri url) => url.IsDefaultPort ? url.IdnHost : $"{url.IdnHost}:{url.Port}";
}
