using System.Net;
using System.Net.Sockets;

namespace VoiceKraliki.WebhookIngress.Webhooks;

/// <summary>Client addresses are personal data: events and logs carry them with the host part masked.</summary>
public static class SourceMask
{
    public static string Mask(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> bytes = stackalloc byte[4];
            address.TryWriteBytes(bytes, out _);
            return $"{bytes[0]}.{bytes[1]}.{bytes[2]}.x";
        }

        Span<byte> v6 = stackalloc byte[16];
        address.TryWriteBytes(v6, out _);
        return $"{v6[0]:x2}{v6[1]:x2}:{v6[2]:x2}{v6[3]:x2}:{v6[4]:x2}{v6[5]:x2}::x";
    }
}
