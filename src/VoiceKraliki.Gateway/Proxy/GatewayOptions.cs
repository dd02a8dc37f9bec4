using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.Gateway.Proxy;

/// <summary>Bound from <c>Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Largest webhook body forwarded; provider webhooks are a few KiB.</summary>
    [Range(1024, 10 * 1024 * 1024, ErrorMessage = "Gateway:WebhookBodyLimitBytes must be between 1024 and 10485760.")]
    public long WebhookBodyLimitBytes { get; set; } = 64 * 1024;

    /// <summary>Largest body on any other route.</summary>
    [Range(1024, 100 * 1024 * 1024, ErrorMessage = "Gateway:DefaultBodyLimitBytes must be between 1024 and 104857600.")]
    public long DefaultBodyLimitBytes { get; set; } = 1024 * 1024;
}
