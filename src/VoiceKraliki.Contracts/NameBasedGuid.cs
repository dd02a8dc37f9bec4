using System.Security.Cryptography;
using System.Text;

namespace VoiceKraliki.Contracts;

/// <summary>
/// Event ids derived from a name, so that the same input always gives the same event (a redelivered request answered
/// twice, a provider's retried webhook) and the receiver's inbox keeps one: the first 16 bytes of SHA-256 of the UTF-8
/// name, as a version-8 UUID (RFC 9562 §5.8 layout).
/// </summary>
public static class NameBasedGuid
{
    public static Guid Create(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(name), hash);
        var bytes = hash[..16];
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
