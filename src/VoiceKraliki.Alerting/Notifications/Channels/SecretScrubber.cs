namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// Removes a channel's secrets from text we did not write ourselves (a receiver's error body, an exception's message)
/// before it reaches a log or a <see cref="DeliveryResult.Error"/>: the values themselves and, for secret URLs, the path,
/// query and the longer path segments, which a receiver may echo back on their own.
/// </summary>
internal static class SecretScrubber
{
    public const string Mask = "***";

    public static string Scrub(string? text, ChannelConfig config)
    {
        if (string.IsNullOrEmpty(text) || config.Secrets is null || config.Secrets.Count == 0)
        {
            return text ?? "";
        }

        foreach (var fragment in Fragments(config).Distinct(StringComparer.Ordinal).OrderByDescending(f => f.Length))
        {
            text = text.Replace(fragment, Mask, StringComparison.OrdinalIgnoreCase);
        }

        return text;
    }

    private static IEnumerable<string> Fragments(ChannelConfig config)
    {
        foreach (var value in config.Secrets.Values)
        {
            if (string.IsNullOrEmpty(value) || value.Length < 4)
            {
                continue;
            }

            yield return value;
            yield return Uri.EscapeDataString(value);
            if (!Uri.TryCreate(value, UriKind.Absolute, out var url))
            {
                continue;
            }

            if (url.PathAndQuery.Length > 1)
            {
                yield return url.PathAndQuery;
            }

            if (url.AbsolutePath.Length > 1)
            {
                yield return url.AbsolutePath;
            }

            if (url.Query.Length > 1)
            {
                yield return url.Query.TrimStart('?');
            }

            if (url.UserInfo.Length > 0)
            {
                yield return url.UserInfo;
            }

            foreach (var segment in url.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s.Length >= 8))
            {
                yield return segment;
            }
        }
    }
}
