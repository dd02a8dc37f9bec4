using System.Globalization;
using System.Text;

namespace VoiceKraliki.Telephony.Events;

/// <summary>Small text rules the two webhook parsers share.</summary>
internal static class WebhookText
{
    /// <summary>Longest identifier (call id, event id, event type) we accept; real ones are under 100 characters.</summary>
    public const int MaxIdLength = 256;

    private const int MaxQuotedLength = 40;

    /// <summary>
    /// Quotes untrusted text for an error message: short, printable ASCII only, so an error can be logged
    /// without carrying a payload (or a phone number hidden in a long value) along with it.
    /// </summary>
    public static string Quote(string? value)
    {
        if (value is null)
        {
            return "null";
        }

        var truncated = value.Length > MaxQuotedLength;
        var text = new StringBuilder(MaxQuotedLength + 3).Append('\'');
        foreach (var c in value.AsSpan(0, truncated ? MaxQuotedLength : value.Length))
        {
            text.Append(c is >= ' ' and <= '~' ? c : '?');
        }

        return text.Append(truncated ? "…'" : "'").ToString();
    }

    /// <summary>An identifier: 1..256 printable ASCII characters without spaces.</summary>
    public static bool IsIdentifier(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxIdLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is <= ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A provider token such as an event type or status: lower-case letters, digits, '.', '_' and '-'.</summary>
    public static bool IsToken(string? value, int maxLength = 64)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    public static bool TryParseNonNegative(string value, out long result) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result);
}
