using System.Text;

namespace VoiceKraliki.Telephony.Signatures;

/// <summary>Signs requests the way Twilio does, for tests and the provider simulator.</summary>
public sealed class TwilioRequestSigner
{
    private readonly byte[] _key;

    public TwilioRequestSigner(string authToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(authToken);
        _key = Encoding.UTF8.GetBytes(authToken);
    }

    /// <summary>The <c>X-Twilio-Signature</c> for a form POST to <paramref name="url"/>.</summary>
    public string Sign(string url, IEnumerable<KeyValuePair<string, string>> formFields) =>
        TwilioSignatureCore.Compute(_key, url, formFields);

    /// <summary>
    /// Adds <c>bodySHA256</c> (lowercase hex SHA-256 of <paramref name="body"/>) to the URL's query and
    /// signs that URL with no fields. Send the body to the returned URL.
    /// </summary>
    public (string Url, string Signature) SignJsonBody(string url, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(url);
        var signedUrl = TwilioBodyHash.Append(url, body);
        return (signedUrl, TwilioSignatureCore.Compute(_key, signedUrl, []));
    }
}
