using System.Buffers.Binary;
using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.Telephony.Tests.Audio;

public class WavFileTests
{
    [Fact]
    public void What_the_writer_writes_reads_back()
    {
        var samples = Enumerable.Range(0, 2 * 1000).Select(i => (short)(i * 37 - 30_000)).ToArray();
        using var stream = new MemoryStream();
        using (var writer = new WavWriter(stream, 16000, 2, leaveOpen: true))
        {
            writer.Write(samples.AsSpan(0, 600));
            writer.Write(samples.AsSpan(600));
            Assert.Equal(1000, writer.Frames);
        }

        stream.Position = 0;
        var (sampleRate, channels, read) = WavFile.Read(stream);

        Assert.Equal(16000, sampleRate);
        Assert.Equal(2, channels);
        Assert.Equal(samples, read);
    }

    [Fact]
    public void A_file_cut_off_after_a_flush_reads_as_what_was_flushed()
    {
        using var stream = new MemoryStream();
        var writer = new WavWriter(stream, 8000, 1, leaveOpen: true);
        writer.Write(new short[] { 1, 2, 3 });
        writer.Flush();
        writer.Write(new short[] { 4, 5 }); // never flushed: the process "crashed" here

        stream.Position = 0;
        Assert.Equal(new short[] { 1, 2, 3 }, WavFile.Read(stream).Samples);
    }

    [Fact]
    public void Sox_written_wav_reads_as_sox_reads_it()
    {
        using var directory = new TempDirectory();
        var wav = directory.File("sweep.wav");
        ExternalTools.RunSox("-n", "-r", "24000", "-c", "2", "-b", "16", "-e", "signed-integer", wav, "synth", "0.25", "sine", "300-3000", "gain", "-3");
        var raw = ExternalTools.ToSamples(ExternalTools.RunSox(wav, "-t", "s16", "-e", "signed-integer", "-"));

        var (sampleRate, channels, samples) = WavFile.Read(wav);

        Assert.Equal(24000, sampleRate);
        Assert.Equal(2, channels);
        AudioAssert.SameSamples(raw, samples, "WavFile vs SoX");
    }

    [Fact]
    public void Unknown_chunks_before_the_data_are_skipped()
    {
        var file = Wav(format: Fmt(1, 1, 8000, 16), extra: Chunk("LIST", new byte[5]), data: [0x01, 0x00, 0xFF, 0xFF]);

        Assert.Equal(new short[] { 1, -1 }, WavFile.Read(new MemoryStream(file)).Samples);
    }

    public static TheoryData<string, byte[]> BadFiles() => new()
    {
        { "empty", [] },
        { "not RIFF", "RIFX\0\0\0\0WAVE"u8.ToArray() },
        { "not WAVE", "RIFF\0\0\0\0AVI "u8.ToArray() },
        { "no data chunk", Wav(Fmt(1, 1, 8000, 16), extra: [], data: null) },
        { "8-bit", Wav(Fmt(1, 1, 8000, 8), extra: [], data: [1, 2]) },
        { "float", Wav(Fmt(3, 1, 8000, 32), extra: [], data: new byte[8]) },
        { "a-law", Wav(Fmt(6, 1, 8000, 16), extra: [], data: new byte[8]) },
        { "zero channels", Wav(Fmt(1, 0, 8000, 16), extra: [], data: new byte[8]) },
        { "data before fmt", [.. "RIFF\0\0\0\0WAVE"u8, .. Chunk("data", new byte[4])] },
        { "data cut short", Truncate(Wav(Fmt(1, 1, 8000, 16), extra: [], data: new byte[100]), 60) },
        { "half a stereo frame", Wav(Fmt(1, 2, 8000, 16), extra: [], data: new byte[6]) },
        { "data size beyond the file", Patch(Wav(Fmt(1, 1, 8000, 16), extra: [], data: new byte[4]), 40, uint.MaxValue - 1) },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_file_that_is_not_complete_pcm16_wav_is_invalid_data(string what, byte[] file)
    {
        var thrown = Record.Exception(() => WavFile.Read(new MemoryStream(file)));

        Assert.True(thrown is InvalidDataException, $"{what}: {thrown?.GetType().Name ?? "nothing"} thrown");
    }

    private static byte[] Fmt(ushort tag, ushort channels, uint rate, ushort bits)
    {
        var fmt = new byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(fmt, tag);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(2), channels);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt.AsSpan(4), rate);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt.AsSpan(8), rate * channels * bits / 8u);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(12), (ushort)(channels * bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(14), bits);
        return fmt;
    }

    private static byte[] Chunk(string id, byte[] body)
    {
        var chunk = new byte[8 + body.Length + (body.Length & 1)];
        System.Text.Encoding.ASCII.GetBytes(id).CopyTo(chunk, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(4), (uint)body.Length);
        body.CopyTo(chunk, 8);
        return chunk;
    }

    private static byte[] Wav(byte[] format, byte[] extra, byte[]? data)
    {
        byte[] body = [.. "WAVE"u8, .. Chunk("fmt ", format), .. extra, .. data is null ? [] : Chunk("data", data)];
        var riff = new byte[8 + body.Length];
        "RIFF"u8.CopyTo(riff);
        BinaryPrimitives.WriteUInt32LittleEndian(riff.AsSpan(4), (uint)body.Length);
        body.CopyTo(riff, 8);
        return riff;
    }

    private static byte[] Truncate(byte[] file, int length) => file[..length];

    private static byte[] Patch(byte[] file, int offset, uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(offset), value);
        return file;
    }
}
