using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.Telephony.Tests.Audio;

public enum Law
{
    MuLaw,
    ALaw,
}

/// <summary>
/// G.711 against two independent implementations run here and now, CPython's audioop and SoX, over every code and
/// every PCM16 value (PROTOCOLS.md §7); nothing is compared with a table written into a test.
/// </summary>
public class G711ReferenceTests
{
    private static readonly byte[] AllCodes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
    private static readonly short[] AllSamples = Enumerable.Range(short.MinValue, 65536).Select(i => (short)i).ToArray();

    [Theory]
    [InlineData(Law.MuLaw)]
    [InlineData(Law.ALaw)]
    public void Every_code_decodes_as_audioop_decodes_it(Law law)
    {
        var expected = ExternalTools.ToSamples(ExternalTools.Audioop(law == Law.MuLaw ? "ulaw2lin" : "alaw2lin", AllCodes));

        AudioAssert.SameSamples(expected, Decode(law, AllCodes), $"{law} decode vs audioop");
    }

    [Theory]
    [InlineData(Law.MuLaw)]
    [InlineData(Law.ALaw)]
    public void Every_code_decodes_as_sox_decodes_it(Law law)
    {
        using var directory = new TempDirectory();
        var codes = directory.File("codes.raw");
        File.WriteAllBytes(codes, AllCodes);

        var expected = ExternalTools.ToSamples(
            ExternalTools.RunSox("-t", SoxType(law), "-r", "8000", "-c", "1", codes, "-t", "s16", "-e", "signed-integer", "-"));

        AudioAssert.SameSamples(expected, Decode(law, AllCodes), $"{law} decode vs SoX");
    }

    [Theory]
    [InlineData(Law.MuLaw)]
    [InlineData(Law.ALaw)]
    public void Every_pcm16_value_encodes_as_audioop_encodes_it(Law law)
    {
        var expected = ExternalTools.Audioop(law == Law.MuLaw ? "lin2ulaw" : "lin2alaw", ExternalTools.ToBytes(AllSamples));

        AudioAssert.SameBytes(expected, Encode(law, AllSamples), $"{law} encode vs audioop");
    }

    /// <summary>
    /// SoX's encoder is not audioop's, and the difference is SoX's, not ours. SoX 14.4.2's raw writer (src/raw.c) encodes
    /// with <c>sox_14linear2ulaw(SOX_SAMPLE_TO_UNSIGNED(14, d, c) - 0x2000)</c> (A-law: 13 bits): it rounds its sample to
    /// the nearest 14-bit (13-bit) value, clipping 32766..32767 to the top, and then applies the same reference rule,
    /// while audioop, the Sun/ITU reference code and older SoX (<c>SOX_SAMPLE_TO_SIGNED_16BIT(d,c) &gt;&gt; 2</c>) take
    /// the 14 (13) bits with an arithmetic shift, i.e. round toward −∞. So for the 508 μ-law and 1,020 A-law inputs
    /// whose rounding crosses a decision level SoX picks the neighbouring code. (SoX also dithers by default when it
    /// reduces the bit depth; <c>-D</c> turns that off.) We keep PROTOCOLS.md's reference rule, audioop's, and assert
    /// here that SoX is exactly that rule applied after its rounding: both implementations agree on everything else.
    /// </summary>
    [Theory]
    [InlineData(Law.MuLaw)]
    [InlineData(Law.ALaw)]
    public void Every_pcm16_value_encodes_as_sox_does_once_rounded_the_way_sox_rounds(Law law)
    {
        using var directory = new TempDirectory();
        var pcm = directory.File("all.raw");
        File.WriteAllBytes(pcm, ExternalTools.ToBytes(AllSamples));

        var sox = EncodeWithSox(law, pcm, directory);

        AudioAssert.SameBytes(sox, Encode(law, RoundedAsSoxEncodes(law, AllSamples)), $"{law} encode vs SoX");
        var differing = sox.Zip(Encode(law, AllSamples)).Count(pair => pair.First != pair.Second);
        Assert.Equal(law == Law.MuLaw ? 508 : 1020, differing);
    }

    [Fact]
    public void Protocol_examples_hold()
    {
        // PROTOCOLS.md §7.
        Assert.Equal(-32124, G711.DecodeMuLaw(0x00));
        Assert.Equal(0, G711.DecodeMuLaw(0x7F));
        Assert.Equal(32124, G711.DecodeMuLaw(0x80));
        Assert.Equal(0, G711.DecodeMuLaw(0xFF));
        Assert.Equal(0xFF, G711.EncodeMuLaw(0));
        Assert.Equal(0x7E, G711.EncodeMuLaw(-1));
        Assert.Equal(0x80, G711.EncodeMuLaw(short.MaxValue));
        Assert.Equal(0x00, G711.EncodeMuLaw(short.MinValue));
    }

    [Theory]
    [InlineData(Law.MuLaw)]
    [InlineData(Law.ALaw)]
    public void Single_sample_and_span_forms_agree(Law law)
    {
        var decoded = Decode(law, AllCodes);
        var encoded = Encode(law, AllSamples);

        for (var code = 0; code < 256; code++)
        {
            Assert.Equal(decoded[code], law == Law.MuLaw ? G711.DecodeMuLaw((byte)code) : G711.DecodeALaw((byte)code));
        }

        for (var i = 0; i < AllSamples.Length; i++)
        {
            Assert.Equal(encoded[i], law == Law.MuLaw ? G711.EncodeMuLaw(AllSamples[i]) : G711.EncodeALaw(AllSamples[i]));
        }
    }

    [Theory]
    [InlineData(Law.MuLaw)]
    [InlineData(Law.ALaw)]
    public void Decoding_what_a_code_decodes_to_gives_the_code_back(Law law)
    {
        // Every code's value lies inside its own quantisation interval, except μ-law's two zeros (0x7F is "−0").
        var roundTripped = Encode(law, Decode(law, AllCodes));

        var mismatches = AllCodes.Where(code => roundTripped[code] != code).ToArray();
        Assert.Equal(law == Law.MuLaw ? [(byte)0x7F] : [], mismatches);
    }

    [Fact]
    public void Output_shorter_than_input_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => G711.DecodeMuLaw(new byte[160], new short[159]));
        Assert.Throws<ArgumentException>(() => G711.DecodeALaw(new byte[160], new short[159]));
        Assert.Throws<ArgumentException>(() => G711.EncodeMuLaw(new short[160], new byte[159]));
        Assert.Throws<ArgumentException>(() => G711.EncodeALaw(new short[160], new byte[159]));
    }

    [Fact]
    public void Coding_a_frame_allocates_nothing()
    {
        var codes = new byte[160];
        var pcm = new short[160];
        new Random(711).NextBytes(codes);
        void CodeFrame()
        {
            G711.DecodeMuLaw(codes, pcm);
            G711.EncodeALaw(pcm, codes);
            G711.DecodeALaw(codes, pcm);
            G711.EncodeMuLaw(pcm, codes);
        }

        for (var i = 0; i < 1000; i++)
        {
            CodeFrame();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            CodeFrame();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    internal static string SoxType(Law law) => law == Law.MuLaw ? "ul" : "al";

    internal static short[] Decode(Law law, ReadOnlySpan<byte> codes)
    {
        var pcm = new short[codes.Length];
        if (law == Law.MuLaw)
        {
            G711.DecodeMuLaw(codes, pcm);
        }
        else
        {
            G711.DecodeALaw(codes, pcm);
        }

        return pcm;
    }

    internal static byte[] Encode(Law law, ReadOnlySpan<short> pcm)
    {
        var codes = new byte[pcm.Length];
        if (law == Law.MuLaw)
        {
            G711.EncodeMuLaw(pcm, codes);
        }
        else
        {
            G711.EncodeALaw(pcm, codes);
        }

        return codes;
    }

    /// <summary>Raw PCM16 file → SoX's G.711 bytes, without dither.</summary>
    internal static byte[] EncodeWithSox(Law law, string pcm16Path, TempDirectory directory)
    {
        var encoded = directory.File($"encoded.{SoxType(law)}");
        var input = pcm16Path.EndsWith(".wav", StringComparison.Ordinal)
            ? new[] { pcm16Path }
            : ["-t", "s16", "-e", "signed-integer", "-r", "8000", "-c", "1", pcm16Path];
        ExternalTools.RunSox(["-D", .. input, "-t", SoxType(law), encoded]);
        return File.ReadAllBytes(encoded);
    }

    /// <summary>What SoX feeds the reference rule: the sample rounded to the nearest 14-bit (A-law 13-bit) value, clipped at the top.</summary>
    internal static short[] RoundedAsSoxEncodes(Law law, ReadOnlySpan<short> pcm)
    {
        var dropped = law == Law.MuLaw ? 2 : 3;
        var max = (1 << (15 - dropped)) - 1;
        var rounded = new short[pcm.Length];
        for (var i = 0; i < pcm.Length; i++)
        {
            rounded[i] = (short)(Math.Min((pcm[i] + (1 << (dropped - 1))) >> dropped, max) << dropped);
        }

        return rounded;
    }
}
