using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace VoiceKraliki.Telephony.Signatures;

/// <summary>
/// <c>application/x-www-form-urlencoded</c> as Twilio's validators see it: <c>+</c> is a space,
/// <c>%XX</c> are UTF-8 bytes, repeated keys stay in arrival order, empty values are kept and a key
/// without <c>=</c> has the value <c>""</c>. Empty segments (<c>a=1&amp;&amp;b=2</c>) are skipped.
/// </summary>
public static class FormBody
{
    private static readonly IReadOnlyList<KeyValuePair<string, string>> NoFields = [];

    /// <summary>
    /// Decodes a form body. Returns false, never throws, on malformed percent-encoding (<c>%ZZ</c>, a
    /// trailing <c>%</c>) or on bytes that are not valid UTF-8 once decoded.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> body, out IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        fields = NoFields;
        if (body.IsEmpty)
        {
            return true;
        }

        var parsed = new List<KeyValuePair<string, string>>();

        // A decoded segment is never longer than the raw one, so one buffer the size of the body suffices.
        var scratch = ArrayPool<byte>.Shared.Rent(body.Length);
        try
        {
            var rest = body;
            while (!rest.IsEmpty)
            {
                var amp = rest.IndexOf((byte)'&');
                var segment = amp < 0 ? rest : rest[..amp];
                rest = amp < 0 ? [] : rest[(amp + 1)..];
                if (segment.IsEmpty)
                {
                    continue;
                }

                var eq = segment.IndexOf((byte)'=');
                var rawKey = eq < 0 ? segment : segment[..eq];
                var rawValue = eq < 0 ? [] : segment[(eq + 1)..];
                if (!TryDecode(rawKey, scratch, out var key) || !TryDecode(rawValue, scratch, out var value))
                {
                    return false;
                }

                parsed.Add(new KeyValuePair<string, string>(key, value));
            }
        }
        finally
        {
            // Form values carry phone numbers; do not leave them in a shared buffer.
            ArrayPool<byte>.Shared.Return(scratch, clearArray: true);
        }

        fields = parsed;
        return true;
    }

    /// <summary>
    /// Encodes fields the way an HTML form (and Twilio) does: space as <c>+</c>, ASCII letters, digits and
    /// <c>*-._</c> as they are, every other UTF-8 byte as <c>%XX</c>. A null key or value is written as empty.
    /// </summary>
    public static string Encode(IEnumerable<KeyValuePair<string, string>> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        var builder = new StringBuilder();
        foreach (var (key, value) in fields)
        {
            if (builder.Length > 0)
            {
                builder.Append('&');
            }

            AppendEscaped(builder, key);
            builder.Append('=');
            AppendEscaped(builder, value);
        }

        return builder.ToString();
    }

    private static bool TryDecode(ReadOnlySpan<byte> raw, Span<byte> scratch, out string decoded)
    {
        decoded = string.Empty;
        if (raw.IsEmpty)
        {
            return true;
        }

        var length = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            var b = raw[i];
            if (b == (byte)'+')
            {
                b = (byte)' ';
            }
            else if (b == (byte)'%')
            {
                if (i + 2 >= raw.Length)
                {
                    return false;
                }

                var high = HexValue(raw[i + 1]);
                var low = HexValue(raw[i + 2]);
                if ((high | low) < 0)
                {
                    return false;
                }

                b = (byte)((high << 4) | low);
                i += 2;
            }

            scratch[length++] = b;
        }

        var bytes = scratch[..length];
        if (!Utf8.IsValid(bytes))
        {
            return false;
        }

        decoded = Encoding.UTF8.GetString(bytes);
        return true;
    }

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    private static void AppendEscaped(StringBuilder builder, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        const string hex = "0123456789ABCDEF";
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var count = Encoding.UTF8.GetBytes(text, rented);
            foreach (var b in rented.AsSpan(0, count))
            {
                if (b == (byte)' ')
                {
                    builder.Append('+');
                }
                else if (IsUnescaped(b))
                {
                    builder.Append((char)b);
                }
                else
                {
                    builder.Append('%').Append(hex[b >> 4]).Append(hex[b & 0xF]);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented, clearArray: true);
        }
    }

    private static bool IsUnescaped(byte b) =>
        b is >= (byte)'a' and <= (byte)'z'
            or >= (byte)'A' and <= (byte)'Z'
            or >= (byte)'0' and <= (byte)'9'
            or (byte)'*' or (byte)'-' or (byte)'.' or (byte)'_';
}
