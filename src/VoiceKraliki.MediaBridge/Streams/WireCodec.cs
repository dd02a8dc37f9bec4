using System.Buffers.Binary;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>
/// The audio on a provider's wire to and from PCM16. PCMA is A-law and PCMU μ-law, always as the stream's start
/// says (decoding A-law as μ-law sounds like static, PROTOCOLS.md §8.5).
/// </summary>
/// <remarks>
/// L16 byte order: Telnyx documents its media payloads as "RTP payloads without RTP headers", and L16 in RTP is
/// network byte order (big-endian, RFC 3551 §4.5.11); the independent Telnyx integrations we checked read and write it
/// big-endian too. So L16 is decoded and encoded big-endian here, whatever the host's order. (The sinks only ever see
/// PCM16 samples, so this choice stays inside this class.)
/// </remarks>
internal static class WireCodec
{
    /// <summary>The wire encoding a start names, or null if we cannot decode it.</summary>
    public static WireEncoding? Parse(TelephonyProvider provider, string? encoding) => (provider, encoding?.ToUpperInvariant()) switch
    {
        (TelephonyProvider.Twilio, null or "AUDIO/X-MULAW") => WireEncoding.MuLaw,
        (TelephonyProvider.Telnyx, "PCMU") => WireEncoding.MuLaw,
        (TelephonyProvider.Telnyx, "PCMA") => WireEncoding.ALaw,
        (TelephonyProvider.Telnyx, "L16") => WireEncoding.L16,
        _ => null,
    };

    public static int BytesPerSample(WireEncoding encoding) => encoding == WireEncoding.L16 ? 2 : 1;

    /// <summary>The sample count a payload of <paramref name="bytes"/> holds, or -1 if it cannot be whole samples.</summary>
    public static int SampleCount(WireEncoding encoding, int bytes) =>
        encoding == WireEncoding.L16 ? (bytes % 2 == 0 ? bytes / 2 : -1) : bytes;

    /// <summary>Decodes <paramref name="payload"/> into the start of <paramref name="pcm"/>; returns the sample count.</summary>
    public static int Decode(WireEncoding encoding, ReadOnlySpan<byte> payload, Span<short> pcm)
    {
        switch (encoding)
        {
            case WireEncoding.MuLaw:
                G711.DecodeMuLaw(payload, pcm);
                return payload.Length;
            case WireEncoding.ALaw:
                G711.DecodeALaw(payload, pcm);
                return payload.Length;
            case WireEncoding.L16:
                var samples = payload.Length / 2;
                for (var i = 0; i < samples; i++)
                {
                    pcm[i] = BinaryPrimitives.ReadInt16BigEndian(payload.Slice(2 * i, 2));
                }

                return samples;
            default:
                throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "Unknown wire encoding.");
        }
    }

    /// <summary>Encodes <paramref name="pcm"/> into the start of <paramref name="wire"/>; returns the byte count.</summary>
    public static int Encode(WireEncoding encoding, ReadOnlySpan<short> pcm, Span<byte> wire)
    {
        switch (encoding)
        {
            case WireEncoding.MuLaw:
                G711.EncodeMuLaw(pcm, wire);
                return pcm.Length;
            case WireEncoding.ALaw:
                G711.EncodeALaw(pcm, wire);
                return pcm.Length;
            case WireEncoding.L16:
                for (var i = 0; i < pcm.Length; i++)
                {
                    BinaryPrimitives.WriteInt16BigEndian(wire.Slice(2 * i, 2), pcm[i]);
                }

                return 2 * pcm.Length;
            default:
                throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "Unknown wire encoding.");
        }
    }

    /// <summary>Fills <paramref name="wire"/> with the encoding's digital silence (linear 0).</summary>
    public static void FillSilence(WireEncoding encoding, Span<byte> wire) => wire.Fill(encoding switch
    {
        WireEncoding.MuLaw => G711.EncodeMuLaw(0),
        WireEncoding.ALaw => G711.EncodeALaw(0),
        _ => 0,
    });
}
