using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>
/// The security layers in front of the webhook endpoints, bound from the <c>WebhookSecurity</c> section
/// (<c>WebhookSecurity__RateLimit__FailedPerMinute</c>, <c>WebhookSecurity__Allowlist__Telnyx__0</c>, …).
/// </summary>
public sealed class WebhookSecurityOptions : IValidatableObject
{
    public const string SectionName = "WebhookSecurity";

    public RateLimitOptions RateLimit { get; set; } = new();

    public AllowlistOptions Allowlist { get; set; } = new();

    /// <summary>
    /// Addresses or CIDR ranges of the proxies (our gateway) whose <c>X-Forwarded-For</c> we believe.
    /// Empty: the connection's peer is the client and forwarded headers are ignored.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    public ReplayOptions Replay { get; set; } = new();

    /// <summary>Checks provider signatures; turn off only for local experiments.</summary>
    public bool SignatureValidation { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        const string rateLimit = SectionName + ":RateLimit";
        if (RateLimit.FailedPerMinute is < 1 or > RateLimitOptions.MaxFailedPerMinute)
        {
            yield return Invalid($"{rateLimit}:FailedPerMinute must be between 1 and {RateLimitOptions.MaxFailedPerMinute}.", "RateLimit.FailedPerMinute");
        }

        if (RateLimit.TotalPerMinute is < 1 or > RateLimitOptions.MaxTotalPerMinute)
        {
            yield return Invalid($"{rateLimit}:TotalPerMinute must be between 1 and {RateLimitOptions.MaxTotalPerMinute}.", "RateLimit.TotalPerMinute");
        }

        if (RateLimit.RedisTimeout < TimeSpan.FromMilliseconds(1) || RateLimit.RedisTimeout > TimeSpan.FromSeconds(10))
        {
            yield return Invalid($"{rateLimit}:RedisTimeout must be between 00:00:00.001 and 00:00:10.", "RateLimit.RedisTimeout");
        }

        if (Replay.Ttl < TimeSpan.FromSeconds(1) || Replay.Ttl > TimeSpan.FromDays(30))
        {
            yield return Invalid($"{SectionName}:Replay:Ttl must be between 00:00:01 and 30.00:00:00.", "Replay.Ttl");
        }

        foreach (var failure in InvalidRanges($"{SectionName}:Allowlist:Twilio", Allowlist.EffectiveTwilio)
                     .Concat(InvalidRanges($"{SectionName}:Allowlist:Telnyx", Allowlist.EffectiveTelnyx))
                     .Concat(InvalidRanges($"{SectionName}:Allowlist:AdditionalRanges", Allowlist.AdditionalRanges))
                     .Concat(InvalidRanges($"{SectionName}:TrustedProxies", TrustedProxies)))
        {
            yield return failure;
        }
    }

    private static IEnumerable<ValidationResult> InvalidRanges(string key, IReadOnlyList<string> entries)
    {
        for (var i = 0; i < entries.Count; i++)
        {
            if (!AddressRanges.TryParse(entries[i], out _))
            {
                yield return Invalid(
                    $"{key}:{i} must be an IP address or a CIDR range such as 192.0.2.0/24 with no host bits set (got '{entries[i]}').",
                    key.Replace(':', '.'));
            }
        }
    }

    private static ValidationResult Invalid(string message, string member) => new(message, [member]);
}

public sealed class RateLimitOptions
{
    internal const int MaxFailedPerMinute = 100_000;
    internal const int MaxTotalPerMinute = 10_000_000;

    public bool Enabled { get; set; } = true;

    /// <summary>Requests from one address that may fail verification per minute; the next one blocks the address for a minute.</summary>
    public int FailedPerMinute { get; set; } = 100;

    /// <summary>Requests from one address per minute, verified or not.</summary>
    public int TotalPerMinute { get; set; } = 6000;

    /// <summary>Slower than this, Redis counts as down and limits are kept per replica in memory.</summary>
    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromMilliseconds(250);
}

public sealed class AllowlistOptions
{
    /// <summary>Telnyx's published webhook and media ranges (PROTOCOLS.md §9).</summary>
    public static readonly IReadOnlyList<string> DefaultTelnyx =
    [
        "192.76.120.128/29",
        "192.76.120.136/29",
        "192.76.120.144/29",
        "185.246.41.0/29",
        "185.246.41.8/29",
        "185.246.41.16/29",
        "103.115.244.0/29",
        "103.115.244.8/29",
        "192.76.120.192/27",
        "192.76.120.128/26",
    ];

    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Twilio publishes no webhook ranges, so by default any source is accepted and the signature is the
    /// control. Null when not configured (see <see cref="EffectiveTwilio"/>).
    /// </summary>
    public List<string>? Twilio { get; set; }

    /// <summary>
    /// Configured Telnyx ranges; they replace <see cref="DefaultTelnyx"/> rather than add to it. Null when
    /// not configured (the configuration binder would append to a non-empty default list).
    /// </summary>
    public List<string>? Telnyx { get; set; }

    /// <summary>
    /// Ranges added to every provider whose list is not empty (a local run adds loopback so the simulator
    /// and local tools get through). A provider with an empty list stays open to every address.
    /// </summary>
    public List<string> AdditionalRanges { get; set; } = [];

    public IReadOnlyList<string> EffectiveTwilio => Twilio ?? [];

    public IReadOnlyList<string> EffectiveTelnyx => Telnyx ?? DefaultTelnyx;
}

public sealed class ReplayOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>How long a delivery is remembered; providers retry for well under a day.</summary>
    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(24);
}
