using System.Security.Cryptography;
using System.Text;

namespace VoiceKraliki.Telephony.Signatures;

/// <summary>
/// Checks <c>X-Twilio-Signature</c> against the URL Twilio called. Thread-safe; keep one per auth token.
/// Never throws on request input: anything malformed is simply not valid.
/// </summary>
public sealed class TwilioRequestValidator
{
    private readonly byte[] _key;

    public TwilioRequestValidator(string authToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(authToken);
        _key = Encoding.UTF8.GetBytes(authToken);
    }

    /// <summary>
    /// A form POST (or a GET: pass no fields). True when <paramref name="signature"/> matches
    /// <paramref name="url"/> as given or its port variant (port removed if present, the scheme's default
    /// port added if absent), as Twilio's SDKs accept; compared in constant time. An apostrophe in the query
    /// may also be escaped (<c>%27</c>) on one side and not the other, as twilio-node accepts.
    /// </summary>
    public bool Validate(string url, IReadOnlyList<KeyValuePair<string, string>> formFields, string? signature)
    {
        if (url is null || signature is null)
        {
            return false;
        }

        // No field list signs like an empty one, as in twilio-java.
        return TwilioSignatureCore.Matches(_key, url, formFields ?? [], signature);
    }

    /// <summary>
    /// A JSON (or any non-form) body: Twilio puts <c>bodySHA256=&lt;hex SHA-256 of the body&gt;</c> in the
    /// URL and signs the URL alone. True only when the signature matches that URL and the body hashes to
    /// the value in it.
    /// </summary>
    public bool ValidateJsonBody(string url, ReadOnlySpan<byte> body, string? signature)
    {
        if (url is null || signature is null)
        {
            return false;
        }

        Span<byte> claimed = stackalloc byte[SHA256.HashSizeInBytes];
        if (!TwilioBodyHash.TryRead(url, claimed))
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body, actual);
        var bodyMatches = CryptographicOperations.FixedTimeEquals(actual, claimed);
        var signatureMatches = TwilioSignatureCore.Matches(_key, url, [], signature);
        return bodyMatches & signatureMatches;
    }
}
