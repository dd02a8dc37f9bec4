using System.Buffers.Binary;

namespace VoiceKraliki.Telephony.Audio;

/// <summary>Reads a whole RIFF/WAVE file of PCM16 little-endian samples (what <see cref="WavWriter"/>, SoX and espeak-ng write).</summary>
public static class WavFile
{
    private const ushort FormatPcm = 1;
    private const ushort FormatExtensible = 0xFFFE;

    /// <exception cref="InvalidDataException">The file is not a complete PCM16 WAV file.</exception>
    public static (int SampleRate, int Channels, short[] Samples) Read(string path)
    {
        using var stream = File.OpenRead(path);
        return Read(stream);
    }

    /// <summary>Reads from the stream's current position; the header's data size decides how many samples there are.</summary>
    /// <exception cref="InvalidDataException">The stream does not hold a complete PCM16 WAV file.</exception>
    public static (int SampleRate, int Channels, short[] Samples) Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> header = stackalloc byte[12];
        ReadExactly(stream, header, "the RIFF header");
        if (!header[..4].SequenceEqual("RIFF"u8) || !header[8..12].SequenceEqual("WAVE"u8))
        {
            throw new InvalidDataException("Not a WAV file: it does not start with RIFF....WAVE.");
        }

        int? sampleRate = null;
        var channels = 0;
        Span<byte> chunkHeader = stackalloc byte[8];
        while (true)
        {
            ReadExactly(stream, chunkHeader, "a chunk header (no data chunk found)");
            var id = chunkHeader[..4];
            var size = BinaryPrimitives.ReadUInt32LittleEndian(chunkHeader[4..]);
            if (id.SequenceEqual("fmt "u8))
            {
                if (size is < 16 or > 1024)
                {
                    throw new InvalidDataException($"The fmt chunk is {size} bytes; a PCM one is 16 to 40.");
                }

                var format = new byte[size + (size & 1)];
                ReadExactly(stream, format, "the fmt chunk");
                (sampleRate, channels) = ParseFormat(format);
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (sampleRate is null)
                {
                    throw new InvalidDataException("The data chunk comes before any fmt chunk.");
                }

                if (size % (2u * (uint)channels) != 0)
                {
                    throw new InvalidDataException($"The data chunk's {size} bytes are not whole frames of {channels} PCM16 channels.");
                }

                if (stream.CanSeek ? size > stream.Length - stream.Position : size > Array.MaxLength)
                {
                    throw new InvalidDataException($"The WAV file ends inside its {size}-byte data chunk.");
                }

                var data = new byte[size];
                ReadExactly(stream, data, $"the {size}-byte data chunk");
                var samples = new short[size / 2];
                for (var i = 0; i < samples.Length; i++)
                {
                    samples[i] = BinaryPrimitives.ReadInt16LittleEndian(data.AsSpan(2 * i));
                }

                return (sampleRate.Value, channels, samples);
            }
            else
            {
                Skip(stream, size + (size & 1));
            }
        }
    }

    private static (int SampleRate, int Channels) ParseFormat(ReadOnlySpan<byte> format)
    {
        var tag = BinaryPrimitives.ReadUInt16LittleEndian(format);
        var channels = BinaryPrimitives.ReadUInt16LittleEndian(format[2..]);
        var sampleRate = BinaryPrimitives.ReadUInt32LittleEndian(format[4..]);
        var blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(format[12..]);
        var bits = BinaryPrimitives.ReadUInt16LittleEndian(format[14..]);

        // WAVE_FORMAT_EXTENSIBLE names the real format in the first two bytes of its sub-format GUID.
        if (tag == FormatExtensible && format.Length >= 26)
        {
            tag = BinaryPrimitives.ReadUInt16LittleEndian(format[24..]);
        }

        if (tag != FormatPcm || bits != 16)
        {
            throw new InvalidDataException($"Only 16-bit PCM is read; this file is format {tag} with {bits} bits per sample.");
        }

        if (channels is < 1 or > 8 || sampleRate is < 1 or > 768_000 || blockAlign != 2 * channels)
        {
            throw new InvalidDataException($"Implausible format: {channels} channels, {sampleRate} Hz, {blockAlign}-byte frames.");
        }

        return ((int)sampleRate, channels);
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string what)
    {
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"The WAV file ends inside {what}.", e);
        }
    }

    private static void Skip(Stream stream, long count)
    {
        if (stream.CanSeek)
        {
            if (stream.Position + count > stream.Length)
            {
                throw new InvalidDataException("The WAV file ends inside a chunk.");
            }

            stream.Seek(count, SeekOrigin.Current);
            return;
        }

        Span<byte> scratch = stackalloc byte[512];
        while (count > 0)
        {
            var chunk = (int)Math.Min(count, scratch.Length);
            ReadExactly(stream, scratch[..chunk], "a chunk");
            count -= chunk;
        }
    }
}
