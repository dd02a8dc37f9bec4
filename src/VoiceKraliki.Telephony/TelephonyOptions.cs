using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.Telephony;

/// <summary>
/// Provider credentials and our public address, bound from the <c>Telephony</c> section
/// (<c>Telephony__PublicBaseUrl</c>, <c>Telephony__Twilio__AuthToken</c>, …).
/// </summary>
public sealed class TelephonyOptions : IValidatableObject
{
    public const string SectionName = "Telephony";

    /// <summary>The URL providers call us at; signed URLs are rebuilt from it.</summary>
    public string? PublicBaseUrl { get; set; }

    public TwilioOptions Twilio { get; set; } = new();

    public TelnyxOptions Telnyx { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrEmpty(PublicBaseUrl) && !IsHttpUrl(PublicBaseUrl))
        {
            yield return new ValidationResult(
                "Telephony:PublicBaseUrl must be an absolute http(s) URL such as https://voice.example.com.",
                [nameof(PublicBaseUrl)]);
        }

        if (!IsHttpUrl(Twilio.ApiBaseUrl))
        {
            yield return new ValidationResult("Telephony:Twilio:ApiBaseUrl must be an absolute http(s) URL.", ["Twilio.ApiBaseUrl"]);
        }

        if (!string.IsNullOrEmpty(Twilio.AccountSid) && !Twilio.AccountSid.StartsWith("AC", StringComparison.Ordinal))
        {
            yield return new ValidationResult("Telephony:Twilio:AccountSid must start with AC.", ["Twilio.AccountSid"]);
        }

        if (!IsHttpUrl(Telnyx.ApiBaseUrl))
        {
            yield return new ValidationResult("Telephony:Telnyx:ApiBaseUrl must be an absolute http(s) URL.", ["Telnyx.ApiBaseUrl"]);
        }

        if (!string.IsNullOrEmpty(Telnyx.ConnectionId) && Telnyx.ConnectionId.Any(char.IsWhiteSpace))
        {
            yield return new ValidationResult(
                "Telephony:Telnyx:ConnectionId must be the id of a Telnyx Call Control connection, without spaces.", ["Telnyx.ConnectionId"]);
        }

        if (!string.IsNullOrEmpty(Telnyx.PublicKey) && !IsEd25519PublicKey(Telnyx.PublicKey))
        {
            yield return new ValidationResult(
                "Telephony:Telnyx:PublicKey must be the base64 of a 32-byte Ed25519 public key.", ["Telnyx.PublicKey"]);
        }
    }

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static bool IsEd25519PublicKey(string value)
    {
        Span<byte> buffer = stackalloc byte[64];
        return Convert.TryFromBase64String(value, buffer, out var written) && written == 32;
    }
}

public sealed class TwilioOptions
{
    public string? AccountSid { get; set; }

    public string? AuthToken { get; set; }

    public string ApiBaseUrl { get; set; } = "https://api.twilio.com";
}

public sealed class TelnyxOptions
{
    public string? ApiKey { get; set; }

    /// <summary>Base64 of the raw 32-byte Ed25519 key that signs Telnyx webhooks.</summary>
    public string? PublicKey { get; set; }

    public string ApiBaseUrl { get; set; } = "https://api.telnyx.com";

    /// <summary>The Call Control connection (application) outbound calls are placed on; its webhook URL gets their events.</summary>
    public string? ConnectionId { get; set; }
}
