using System.Net;
using System.Net.Sockets;

namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>Parsing of configured ranges and the one address form every layer compares.</summary>
internal static class AddressRanges
{
    /// <summary>A CIDR range (<c>192.0.2.0/24</c>) or a single address (<c>192.0.2.7</c>, <c>2001:db8::1</c>).</summary>
    public static bool TryParse(string? value, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var text = value.AsSpan().Trim();
        var slash = text.IndexOf('/');
        if (slash >= 0)
        {
            // IPNetwork quietly clears host bits (10.0.0.1/8 becomes 10.0.0.0/8); in a security setting
            // that is more likely a typo for a single address than a wish for the whole range.
            if (!IPNetwork.TryParse(text, out network) || !IPAddress.TryParse(text[..slash], out var written) || !written.Equals(network.BaseAddress))
            {
                return false;
            }

            if (network.BaseAddress.IsIPv4MappedToIPv6 && network.PrefixLength >= 96)
            {
                network = new IPNetwork(network.BaseAddress.MapToIPv4(), network.PrefixLength - 96);
            }

            return true;
        }

        if (!IPAddress.TryParse(text, out var address))
        {
            return false;
        }

        address = Normalize(address);
        network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        return true;
    }

    public static IPNetwork[] ParseAll(IReadOnlyList<string> values)
    {
        var networks = new IPNetwork[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            // Options validation has already named any bad entry; this only runs after it passed.
            if (!TryParse(values[i], out networks[i]))
            {
                throw new FormatException($"'{values[i]}' is not an IP address or CIDR range.");
            }
        }

        return networks;
    }

    public static bool Contains(IPNetwork[] networks, IPAddress address)
    {
        foreach (var network in networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A dual-stack socket reports IPv4 peers as <c>::ffff:a.b.c.d</c>; ranges are written in IPv4.</summary>
    public static IPAddress Normalize(IPAddress address) =>
        address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
