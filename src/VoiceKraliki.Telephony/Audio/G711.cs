namespace VoiceKraliki.Telephony.Audio;

/// <summary>
/// ITU-T G.711 μ-law (PCMU) and A-law (PCMA) to and from linear PCM16, bit-exact with the reference rules that
/// SoX and CPython's audioop implement (PROTOCOLS.md §7). Decoding is a 256-entry table, encoding a 64 Ki-entry
/// table; both are computed once from the rules, and the span methods allocate nothing.
/// </summary>
/// <remarks>
/// Encoding takes the top 14 (A-law 13) bits of the sample by arithmetic shift, as audioop and the Sun/ITU reference
/// code do. SoX 14.4's encoder rounds to those bits instead, so for 508 μ-law and 1,020 A-law input values (those
/// next to a decision level) it picks the neighbouring code; decoding is the same everywhere. G711ReferenceTests
/// checks both facts against the real tools.
/// </remarks>
public static class G711
{
    private const int MuLawBias = 0x84;
    private const int MuLawClip = 8159;

    private static readonly short[] MuLawToLinear = BuildDecodeTable(MuLawDecodeRule);
    private static readonly short[] ALawToLinear = BuildDecodeTable(ALawDecodeRule);
    private static readonly byte[] LinearToMuLaw = BuildEncodeTable(MuLawEncodeRule);
    private static readonly byte[] LinearToALaw = BuildEncodeTable(ALawEncodeRule);

    public static short DecodeMuLaw(byte code) => MuLawToLinear[code];

    public static short DecodeALaw(byte code) => ALawToLinear[code];

    public static byte EncodeMuLaw(short sample) => LinearToMuLaw[(ushort)sample];

    public static byte EncodeALaw(short sample) => LinearToALaw[(ushort)sample];

    /// <summary>Decodes every byte of <paramref name="encoded"/> into the start of <paramref name="pcm"/>.</summary>
    public static void DecodeMuLaw(ReadOnlySpan<byte> encoded, Span<short> pcm) => Decode(encoded, pcm, MuLawToLinear);

    public static void DecodeALaw(ReadOnlySpan<byte> encoded, Span<short> pcm) => Decode(encoded, pcm, ALawToLinear);

    /// <summary>Encodes every sample of <paramref name="pcm"/> into the start of <paramref name="encoded"/>.</summary>
    public static void EncodeMuLaw(ReadOnlySpan<short> pcm, Span<byte> encoded) => Encode(pcm, encoded, LinearToMuLaw);

    public static void EncodeALaw(ReadOnlySpan<short> pcm, Span<byte> encoded) => Encode(pcm, encoded, LinearToALaw);

    private static void Decode(ReadOnlySpan<byte> encoded, Span<short> pcm, short[] table)
    {
        if (pcm.Length < encoded.Length)
        {
            throw new ArgumentException($"The output has room for {pcm.Length} samples; {encoded.Length} are needed.", nameof(pcm));
        }

        for (var i = 0; i < encoded.Length; i++)
        {
            pcm[i] = table[encoded[i]];
        }
    }

    private static void Encode(ReadOnlySpan<short> pcm, Span<byte> encoded, byte[] table)
    {
        if (encoded.Length < pcm.Length)
        {
            throw new ArgumentException($"The output has room for {encoded.Length} bytes; {pcm.Length} are needed.", nameof(encoded));
        }

        for (var i = 0; i < pcm.Length; i++)
        {
            encoded[i] = table[(ushort)pcm[i]];
        }
    }

    /// <summary>μ-law to linear: <c>u = ~u; t = ((u &amp; 0x0F) &lt;&lt; 3) + 0x84; t &lt;&lt;= (u &amp; 0x70) &gt;&gt; 4</c>, signed by bit 7.</summary>
    private static short MuLawDecodeRule(byte code)
    {
        var u = ~code & 0xFF;
        var t = ((u & 0x0F) << 3) + MuLawBias;
        t <<= (u & 0x70) >> 4;
        return (short)((u & 0x80) != 0 ? MuLawBias - t : t - MuLawBias);
    }

    /// <summary>A-law to linear: even bits inverted (0x55), 4-bit mantissa, 3-bit segment, sign bit 7 set = positive.</summary>
    private static short ALawDecodeRule(byte code)
    {
        var a = code ^ 0x55;
        var t = (a & 0x0F) << 4;
        var segment = (a & 0x70) >> 4;
        t = segment switch
        {
            0 => t + 8,
            1 => t + 0x108,
            _ => (t + 0x108) << (segment - 1),
        };
        return (short)((a & 0x80) != 0 ? t : -t);
    }

    /// <summary>Linear (16-bit, used as 14-bit) to μ-law, with the reference rounding and clipping.</summary>
    private static byte MuLawEncodeRule(short sample)
    {
        var value = sample >> 2;
        int mask;
        if (value < 0)
        {
            value = -value;
            mask = 0x7F;
        }
        else
        {
            mask = 0xFF;
        }

        value = Math.Min(value, MuLawClip) + (MuLawBias >> 2);
        var segment = Segment(value, 0x3F);
        if (segment >= 8)
        {
            return (byte)(0x7F ^ mask);
        }

        return (byte)(((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask);
    }

    /// <summary>Linear (16-bit, used as 13-bit) to A-law.</summary>
    private static byte ALawEncodeRule(short sample)
    {
        var value = sample >> 3;
        int mask;
        if (value >= 0)
        {
            mask = 0xD5;
        }
        else
        {
            mask = 0x55;
            value = -value - 1;
        }

        var segment = Segment(value, 0x1F);
        if (segment >= 8)
        {
            return (byte)(0x7F ^ mask);
        }

        var code = (segment << 4) | ((value >> (segment < 2 ? 1 : segment)) & 0x0F);
        return (byte)(code ^ mask);
    }

    /// <summary>The first of eight segments (end points <paramref name="firstEnd"/>, doubling) that holds <paramref name="value"/>; 8 above all.</summary>
    private static int Segment(int value, int firstEnd)
    {
        var end = firstEnd;
        for (var segment = 0; segment < 8; segment++, end = (end << 1) | 1)
        {
            if (value <= end)
            {
                return segment;
            }
        }

        return 8;
    }

    private static short[] BuildDecodeTable(Func<byte, short> rule)
    {
        var table = new short[256];
        for (var code = 0; code < 256; code++)
        {
            table[code] = rule((byte)code);
        }

        return table;
    }

    private static byte[] BuildEncodeTable(Func<short, byte> rule)
    {
        var table = new byte[65536];
        for (var i = 0; i < table.Length; i++)
        {
            table[i] = rule((short)(ushort)i);
        }

        return table;
    }
}
