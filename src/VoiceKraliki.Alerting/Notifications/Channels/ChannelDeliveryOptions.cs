using System.ComponentModel.DataAnnotations;
using System.Net.Security;

namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// Bound from <c>Alerting:Channels</c>: how long a delivery keeps retrying, how it backs off, and how patient the SMTP
/// client is. HTTP timeouts are the ServiceDefaults resilience pipeline's (<c>HttpResilience</c>).
/// </summary>
public sealed class ChannelDeliveryOptions : IValidatableObject
{
    public const string SectionName = "Alerting:Channels";

    /// <summary>How long after its first attempt a delivery may keep retrying before it gives up.</summary>
    public TimeSpan DeliveryDeadline { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The first backoff after a retryable failure; each later one doubles, up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Each backoff is moved by up to this fraction either way, so that channels failing together do not retry together.</summary>
    public double BackoffJitter { get; set; } = 0.2;

    /// <summary>A receiver's <c>Retry-After</c> is honoured exactly, up to this.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How many deliveries a channel may send back to back before its rate applies; 1 spaces every delivery by
    /// 60 s / <see cref="ChannelConfig.RatePerMinute"/>.
    /// </summary>
    public int RateLimitBurst { get; set; } = 1;

    /// <summary>Connecting to an SMTP server (TCP and, with STARTTLS, the TLS handshake).</summary>
    public TimeSpan SmtpConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Each SMTP command's reply, and the greeting.</summary>
    public TimeSpan SmtpCommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Sending the message after DATA and the server's reply to its end.</summary>
    public TimeSpan SmtpDataTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Decides whether an SMTP server's certificate is trusted; null uses the system's trust store and the host name.
    /// Not bound from configuration: tests trust their own loopback server's certificate with it.
    /// </summary>
    internal RemoteCertificateValidationCallback? SmtpCertificateValidation { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DeliveryDeadline < TimeSpan.FromSeconds(1) || DeliveryDeadline > TimeSpan.FromHours(24))
        {
            yield return new ValidationResult($"{SectionName}:DeliveryDeadline must be between 1 second and 24 hours.", [nameof(DeliveryDeadline)]);
        }

        if (InitialBackoff < TimeSpan.FromMilliseconds(10) || InitialBackoff > MaxBackoff)
        {
            yield return new ValidationResult($"{SectionName}:InitialBackoff must be at least 10 ms and at most MaxBackoff.", [nameof(InitialBackoff)]);
        }

        if (MaxBackoff > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult($"{SectionName}:MaxBackoff must be at most 1 hour.", [nameof(MaxBackoff)]);
        }

        if (BackoffJitter is < 0 or > 0.5 || double.IsNaN(BackoffJitter))
        {
            yield return new ValidationResult($"{SectionName}:BackoffJitter must be between 0 and 0.5.", [nameof(BackoffJitter)]);
        }

        if (MaxRetryAfter < TimeSpan.FromSeconds(1) || MaxRetryAfter > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult($"{SectionName}:MaxRetryAfter must be between 1 second and 1 hour.", [nameof(MaxRetryAfter)]);
        }

        if (RateLimitBurst is < 1 or > 1000)
        {
            yield return new ValidationResult($"{SectionName}:RateLimitBurst must be between 1 and 1000.", [nameof(RateLimitBurst)]);
        }

        foreach (var (name, value) in new[]
                 {
                     (nameof(SmtpConnectTimeout), SmtpConnectTimeout),
                     (nameof(SmtpCommandTimeout), SmtpCommandTimeout),
                     (nameof(SmtpDataTimeout), SmtpDataTimeout),
                 })
        {
            if (value < TimeSpan.FromMilliseconds(100) || value > TimeSpan.FromMinutes(10))
            {
                yield return new ValidationResult($"{SectionName}:{name} must be between 100 ms and 10 minutes.", [name]);
            }
        }
    }
}
