using System.Net;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>
/// The address a webhook came from. Anyone can write <c>X-Forwarded-For</c>, so it is read only when the
/// connection comes from a trusted proxy, and then only as far back as the proxies we trust wrote it.
/// </summary>
public sealed class ClientAddressResolver
{
    public const string ForwardedForHeader = "X-Forwarded-For";

    private readonly IPNetwork[] _trustedProxies;

    public ClientAddressResolver(IOptions<WebhookSecurityOptions> options)
    {
        _trustedProxies = AddressRanges.ParseAll(options.Value.TrustedProxies);
    }

    /// <summary>Whether <paramref name="peer"/> is one of <c>WebhookSecurity:TrustedProxies</c> (whose forwarded headers count).</summary>
    public bool IsTrustedProxy(IPAddress? peer) =>
        peer is not null && _trustedProxies.Length > 0 && AddressRanges.Contains(_trustedProxies, AddressRanges.Normalize(peer));

    /// <summary>The client of this request: its peer, or the forwarded client when the peer is a trusted proxy.</summary>
    public IPAddress Resolve(HttpContext context) =>
        Resolve(context.Connection.RemoteIpAddress, context.Request.Headers[ForwardedForHeader]);

    /// <summary>
    /// The peer unless it is a trusted proxy; then the rightmost <paramref name="forwardedFor"/> hop that is
    /// not a trusted proxy (the leftmost hop if all are). A malformed hop stops the walk: the peer is used.
    /// IPv4-mapped IPv6 addresses come back as IPv4; a missing peer as <see cref="IPAddress.None"/>.
    /// </summary>
    /// <param name="forwardedFor">All <c>X-Forwarded-For</c> values, comma-separated in arrival order.</param>
    public IPAddress Resolve(IPAddress? remoteIpAddress, string? forwardedFor)
    {
        if (remoteIpAddress is null)
        {
            return IPAddress.None;
        }

        var peer = AddressRanges.Normalize(remoteIpAddress);
        if (_trustedProxies.Length == 0 || string.IsNullOrEmpty(forwardedFor) || !AddressRanges.Contains(_trustedProxies, peer))
        {
            return peer;
        }

        var remaining = forwardedFor.AsSpan();
        IPAddress? leftmost = null;
        while (true)
        {
            var comma = remaining.LastIndexOf(',');
            var hop = remaining[(comma + 1)..].Trim();
            if (!TryParseHop(hop, out var address))
            {
                return peer;
            }

            if (!AddressRanges.Contains(_trustedProxies, address))
            {
                return address;
            }

            leftmost = address;
            if (comma < 0)
            {
                return leftmost;
            }

            remaining = remaining[..comma];
        }
    }

    /// <summary>
    /// <c>a.b.c.d</c>, an IPv6 address, or either with a port (<c>a.b.c.d:p</c>, <c>[v6]:p</c>). Short IPv4
    /// forms that <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> accepts (<c>1</c>, <c>0x7f.1</c>)
    /// are not what a proxy writes, so they count as malformed.
    /// </summary>
    private static bool TryParseHop(ReadOnlySpan<char> hop, out IPAddress address)
    {
        address = IPAddress.None;
        if (hop.IsEmpty || hop.Length > 64)
        {
            return false;
        }

        if (hop[0] == '[')
        {
            var close = hop.IndexOf(']');
            if (close < 0 || !IsPortSuffix(hop[(close + 1)..]))
            {
                return false;
            }

            hop = hop[1..close];
        }
        else if (hop.Count(':') == 1)
        {
            var colon = hop.IndexOf(':');
            if (!IsPortSuffix(hop[colon..]))
            {
                return false;
            }

            hop = hop[..colon];
        }

        if (!hop.Contains(':') && !IsDottedQuad(hop))
        {
            return false;
        }

        if (!IPAddress.TryParse(hop, out var parsed))
        {
            return false;
        }

        address = AddressRanges.Normalize(parsed);
        return true;
    }

    private static bool IsPortSuffix(ReadOnlySpan<char> suffix)
    {
        if (suffix.IsEmpty)
        {
            return true;
        }

        return suffix.Length is > 1 and <= 6 && suffix[0] == ':' && !suffix[1..].ContainsAnyExceptInRange('0', '9');
    }

    private static bool IsDottedQuad(ReadOnlySpan<char> text) =>
        text.Count('.') == 3 && !text.ContainsAnyExcept("0123456789.");
}
