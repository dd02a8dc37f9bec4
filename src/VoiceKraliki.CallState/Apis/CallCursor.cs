using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace VoiceKraliki.CallState.Apis;

/// <summary>
/// The position after the last call of a page, (created_at, provider_call_id), as opaque base64url text. Clients
/// pass it back unchanged; its format may change.
/// </summary>
public readonly record struct CallCursor(DateTimeOffset CreatedAt, string ProviderCallId)
{
    private const string Version = "1";
    private const int MaxLength = 2048;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public string Encode() =>
        Base64Url.EncodeToString(StrictUtf8.GetBytes(
            $"{Version}|{CreatedAt.UtcTicks.ToString(CultureInfo.InvariantCulture)}|{ProviderCallId}"));

    public static bool TryDecode(string text, out CallCursor cursor)
    {
        cursor = default;
        if (text.Length is 0 or > MaxLength || !Base64Url.IsValid(text))
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = StrictUtf8.GetString(Base64Url.DecodeFromChars(text));
        }
        catch (Exception e) when (e is FormatException or DecoderFallbackException)
        {
            return false;
        }

        var parts = decoded.Split('|', 3);
        if (parts.Length != 3
            || parts[0] != Version
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks
            || parts[2].Length == 0)
        {
            return false;
        }

        cursor = new CallCursor(new DateTimeOffset(ticks, TimeSpan.Zero), parts[2]);
        return true;
    }
}
