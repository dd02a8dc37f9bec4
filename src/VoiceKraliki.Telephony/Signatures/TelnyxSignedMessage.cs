using System.Buffers;
using System.Text;

namespace VoiceKraliki.Telephony.Signatures;

/// <summary>
/// The bytes Telnyx signs: UTF-8 of <c>timestamp + "|" + raw body</c>. Shared by the verifier and the
/// signer. BouncyCastle takes arrays, so the message lives in a pooled one; return it with <see cref="Return"/>.
/// </summary>
internal static class TelnyxSignedMessage
{
    internal const int SignatureSize = 64;
    internal const int PublicKeySize = 32;

    /// <summary>Null when the message would not fit in an array.</summary>
    internal static byte[]? Rent(string timestamp, ReadOnlySpan<byte> body, out int length)
    {
        var timestampBytes = Encoding.UTF8.GetByteCount(timestamp);
        var total = (long)timestampBytes + 1 + body.Length;
        if (total > Array.MaxLength)
        {
            length = 0;
            return null;
        }

        length = (int)total;
        var message = ArrayPool<byte>.Shared.Rent(length);
        Encoding.UTF8.GetBytes(timestamp, message);
        message[timestampBytes] = (byte)'|';
        body.CopyTo(message.AsSpan(timestampBytes + 1));
        return message;
    }

    internal static void Return(byte[] message) => ArrayPool<byte>.Shared.Return(message, clearArray: true);
}
