using System.Net;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>
/// Whether a provider's webhook may come from an address. A provider with no ranges accepts every
/// address: its signature is then the only control.
/// </summary>
public sealed partial class SourceAllowlist
{
    private readonly bool _enabled;
    private readonly IPNetwork[] _twilio;
    private readonly IPNetwork[] _telnyx;

    public SourceAllowlist(IOptions<WebhookSecurityOptions> options, ILogger<SourceAllowlist> logger)
    {
        var allowlist = options.Value.Allowlist;
        _enabled = allowlist.Enabled;
        _twilio = WithAdditional(AddressRanges.ParseAll(allowlist.EffectiveTwilio), allowlist.AdditionalRanges);
        _telnyx = WithAdditional(AddressRanges.ParseAll(allowlist.EffectiveTelnyx), allowlist.AdditionalRanges);
        if (_enabled && allowlist.AdditionalRanges.Count > 0)
        {
            LogAdditional(logger, string.Join(", ", allowlist.AdditionalRanges));
        }

        if (!_enabled)
        {
            LogDisabled(logger);
            return;
        }

        if (_twilio.Length == 0)
        {
            LogTwilioOpen(logger);
        }
        else
        {
            LogRanges(logger, "Twilio", _twilio.Length);
        }

        if (_telnyx.Length == 0)
        {
            LogTelnyxOpen(logger);
        }
        else
        {
            LogRanges(logger, "Telnyx", _telnyx.Length);
        }
    }

    public bool Enabled => _enabled;

    public bool IsAllowed(TelephonyProvider provider, IPAddress client)
    {
        if (!_enabled)
        {
            return true;
        }

        var networks = provider switch
        {
            TelephonyProvider.Twilio => _twilio,
            TelephonyProvider.Telnyx => _telnyx,
            _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "Unknown telephony provider."),
        };
        return networks.Length == 0 || AddressRanges.Contains(networks, AddressRanges.Normalize(client));
    }

    private static IPNetwork[] WithAdditional(IPNetwork[] ranges, IReadOnlyList<string> additional) =>
        ranges.Length == 0 ? ranges : [.. ranges, .. AddressRanges.ParseAll(additional)];

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook source allowlists also accept {Ranges} (added to every non-empty provider list)")]
    private static partial void LogAdditional(ILogger logger, string ranges);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Twilio webhook source allowlist is empty: no published source ranges; the signature is the control")]
    private static partial void LogTwilioOpen(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Telnyx webhook source allowlist is empty: any address is accepted; the signature is the control")]
    private static partial void LogTelnyxOpen(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider} webhooks are accepted from {Count} source ranges")]
    private static partial void LogRanges(ILogger logger, string provider, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook source allowlist is disabled: any address is accepted for every provider")]
    private static partial void LogDisabled(ILogger logger);
}
