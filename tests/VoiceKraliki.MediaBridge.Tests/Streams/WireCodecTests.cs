using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Streams;

namespace VoiceKraliki.MediaBridge.Tests.Streams;

public class WireCodecTests
{
    [Theory]
    [InlineData(TelephonyProvider.Twilio, "audio/x-mulaw", WireEncoding.MuLaw)]
    [InlineData(TelephonyProvider.Twilio, null, WireEncoding.MuLaw)]
    [InlineData(TelephonyProvider.Telnyx, "PCMU", WireEncoding.MuLaw)]
    [InlineData(TelephonyProvider.Telnyx, "PCMA", WireEncoding.ALaw)]
    [InlineData(TelephonyProvider.Telnyx, "pcma", WireEncoding.ALaw)]
    [InlineData(TelephonyProvider.Telnyx, "L16", WireEncoding.L16)]
    public void The_start_encoding_names_the_codec(TelephonyProvider provider, string? encoding, WireEncoding expected)
    {
        Assert.Equal(expected, WireCodec.Parse(provider, encoding));
    }

    [Theory]
    [InlineData(TelephonyProvider.Telnyx, null)]
    [InlineData(TelephonyProvider.Telnyx, "OPUS")]
    [InlineData(TelephonyProvider.Telnyx, "G722")]
    [InlineData(TelephonyProvider.Twilio, "PCMA")]
    public void Encodings_we_cannot_decode_are_refused(TelephonyProvider provider, string? encoding)
    {
        Assert.Null(WireCodec.Parse(provider, encoding));
    }

    [Fact]
    public void A_law_codes_decode_to_the_G711_table_values_not_mu_law_ones()
    {
        // ITU-T G.711 Table 1a/1b: A-law 0xD5 and 0x55 are ±8, 0xAA and 0x2A ±32256; μ-law 0xFF and 0x7F are 0.
        var pcm = new short[4];
        WireCodec.Decode(WireEncoding.ALaw, [0xD5, 0x55, 0xAA, 0x2A], pcm);
        Assert.Equal(new short[] { 8, -8, 32256, -32256 }, pcm);

        WireCodec.Decode(WireEncoding.MuLaw, [0xFF, 0x7F, 0x80, 0x00], pcm);
        Assert.Equal(new short[] { 0, 0, 32124, -32124 }, pcm);
    }

    [Fact]
    public void L16_is_big_endian_both_ways()
    {
        var pcm = new short[2];
        Assert.Equal(2, WireCodec.Decode(WireEncoding.L16, [0x01, 0x02, 0xFF, 0xFE], pcm));
        Assert.Equal(new short[] { 0x0102, -2 }, pcm);

        var wire = new byte[4];
        Assert.Equal(4, WireCodec.Encode(WireEncoding.L16, pcm, wire));
        Assert.Equal(new byte[] { 0x01, 0x02, 0xFF, 0xFE }, wire);
        Assert.Equal(-1, WireCodec.SampleCount(WireEncoding.L16, 3));
    }

    [Theory]
    [InlineData(WireEncoding.MuLaw, 0xFF)]
    [InlineData(WireEncoding.ALaw, 0xD5)]
    [InlineData(WireEncoding.L16, 0x00)]
    public void Silence_is_the_code_for_zero(WireEncoding encoding, byte expected)
    {
        var wire = new byte[8];
        WireCodec.FillSilence(encoding, wire);
        Assert.All(wire, b => Assert.Equal(expected, b));
    }
}
