using System.Text;

namespace VoiceKraliki.Telephony.Signatures;

/// <summary>
/// Twilio's <c>X-Twilio-Signature</c>: Base64(HMAC-SHA1(UTF-8 auth token, UTF-8 of the URL followed by
/// <c>key + value</c> for every form field, ordinal-sorted by key, then by value, each distinct pair once)).
/// </summary>
public static class TwilioSignature
{
    public const string HeaderName = "X-Twilio-Signature";

    /// <summary>The signature Twilio sends for <paramref name="url"/> and <paramref name="formFields"/>.</summary>
    public static string Compute(string authToken, string url, IEnumerable<KeyValuePair<string, string>> formFields)
    {
        ArgumentException.ThrowIfNullOrEmpty(authToken);
        return TwilioSignatureCore.Compute(Encoding.UTF8.GetBytes(authToken), url, formFields);
    }
}
