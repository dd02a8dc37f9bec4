using System.Buffers.Binary;

namespace VoiceKraliki.Telephony.Audio;

/// <summary>
/// Writes a RIFF/WAVE file of PCM16 little-endian samples as they come, and fixes the header's sizes when
/// completed, so that a file cut off by a crash is still a readable WAV of what was written up to its last
/// <see cref="Flush"/> (its header then says less than the data holds).
/// </summary>
public sealed class WavWriter : IDisposable
{
    public const int HeaderLength = 44;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private long _dataBytes;
    private bool _completed;

    public WavWriter(Stream stream, int sampleRate, int channels, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(channels, 8);
        if (!stream.CanWrite || !stream.CanSeek)
        {
            throw new ArgumentException("A WAV file is written to a writable, seekable stream (its sizes are fixed at the end).", nameof(stream));
        }

        _stream = stream;
        _leaveOpen = leaveOpen;
        SampleRate = sampleRate;
        Channels = channels;
        Span<byte> header = stackalloc byte[HeaderLength];
        WriteHeader(header, sampleRate, channels, 0);
        _stream.Write(header);
    }

    public int SampleRate { get; }

    public int Channels { get; }

    /// <summary>Samples written per channel so far.</summary>
    public long Frames => _dataBytes / (2 * Channels);

    /// <summary>Appends interleaved samples (a multiple of <see cref="Channels"/>).</summary>
    public void Write(ReadOnlySpan<short> interleaved)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (interleaved.Length % Channels != 0)
        {
            throw new ArgumentException($"{interleaved.Length} samples are not whole frames of {Channels} channels.", nameof(interleaved));
        }

        Span<byte> chunk = stackalloc byte[512];
        while (!interleaved.IsEmpty)
        {
            var count = Math.Min(interleaved.Length, chunk.Length / 2);
            for (var i = 0; i < count; i++)
            {
                BinaryPrimitives.WriteInt16LittleEndian(chunk[(2 * i)..], interleaved[i]);
            }

            _stream.Write(chunk[..(2 * count)]);
            _dataBytes += 2 * count;
            interleaved = interleaved[count..];
        }
    }

    /// <summary>Writes the sizes so far into the header and flushes, leaving the writer open for more.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        var position = _stream.Position;
        Span<byte> header = stackalloc byte[HeaderLength];
        WriteHeader(header, SampleRate, Channels, _dataBytes);
        _stream.Position = 0;
        _stream.Write(header);
        _stream.Position = position;
        _stream.Flush();
    }

    public void Dispose()
    {
        if (_completed)
        {
            return;
        }

        Flush();
        _completed = true;
        if (!_leaveOpen)
        {
            _stream.Dispose();
        }
    }

    private static void WriteHeader(Span<byte> header, int sampleRate, int channels, long dataBytes)
    {
        var data = (uint)Math.Min(dataBytes, uint.MaxValue - HeaderLength);
        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], data + HeaderLength - 8);
        "WAVE"u8.CopyTo(header[8..]);
        "fmt "u8.CopyTo(header[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], 1); // PCM
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], (uint)(sampleRate * channels * 2));
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], (ushort)(channels * 2));
        BinaryPrimitives.WriteUInt16LittleEndian(header[34..], 16);
        "data"u8.CopyTo(header[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], data);
    }
}
