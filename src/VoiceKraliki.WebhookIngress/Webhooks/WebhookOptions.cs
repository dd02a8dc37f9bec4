using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.WebhookIngress.Webhooks;

/// <summary>How webhooks are answered, bound from <c>Webhooks</c>.</summary>
public sealed class WebhookOptions : IValidatableObject
{
    public const string SectionName = "Webhooks";

    /// <summary>
    /// How long a webhook waits for RabbitMQ's publisher confirm before it is answered 503 (the provider
    /// retries). Twilio gives up on a webhook after 15 s and connects within 5 s; stay well under both.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The largest body accepted; the gateway applies the same cap.</summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    public VoiceResponseOptions Voice { get; set; } = new();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PublishTimeout < TimeSpan.FromMilliseconds(100) || PublishTimeout > TimeSpan.FromSeconds(10))
        {
            yield return new ValidationResult("Webhooks:PublishTimeout must be between 00:00:00.1 and 00:00:10.", [nameof(PublishTimeout)]);
        }

        if (MaxBodyBytes is < 1024 or > 1024 * 1024)
        {
            yield return new ValidationResult("Webhooks:MaxBodyBytes must be between 1024 and 1048576.", [nameof(MaxBodyBytes)]);
        }

        if (Voice.StreamTokenLifetime < TimeSpan.FromSeconds(10) || Voice.StreamTokenLifetime > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult("Webhooks:Voice:StreamTokenLifetime must be between 00:00:10 and 01:00:00.", ["Voice.StreamTokenLifetime"]);
        }

        if (string.IsNullOrWhiteSpace(Voice.ApologyText))
        {
            yield return new ValidationResult("Webhooks:Voice:ApologyText must not be empty.", ["Voice.ApologyText"]);
        }

        if (!IsBase64Key(Voice.StreamTokenSigningKey))
        {
            yield return new ValidationResult(
                "Webhooks:Voice:StreamTokenSigningKey must be the base64 of at least 32 random bytes (shared with media-bridge).",
                ["Voice.StreamTokenSigningKey"]);
        }
    }

    private static bool IsBase64Key(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        try
        {
            return Convert.FromBase64String(value).Length >= 32;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}

/// <summary>The TwiML answer to Twilio's voice webhook.</summary>
public sealed class VoiceResponseOptions
{
    /// <summary>Said before the stream connects, e.g. a recording notice; none by default.</summary>
    public string? Announcement { get; set; }

    /// <summary>Said before hanging up when the call cannot be taken (the bus is unavailable).</summary>
    public string ApologyText { get; set; } = "We are sorry, we cannot take your call right now. Please try again later.";

    public string? Language { get; set; }

    /// <summary>Signs the token media-bridge checks before it accepts a stream; base64, 32 bytes or more.</summary>
    public string? StreamTokenSigningKey { get; set; }

    public TimeSpan StreamTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);
}
