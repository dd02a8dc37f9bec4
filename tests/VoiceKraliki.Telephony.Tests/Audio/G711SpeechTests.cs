using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.Telephony.Tests.Audio;

/// <summary>
/// Real speech (espeak-ng, resampled to 8 kHz by SoX, read back with <see cref="WavFile"/>) through our codecs and
/// through SoX's and audioop's: sample for sample and byte for byte the same.
/// </summary>
public sealed class G711SpeechTests(SpokenPhrase speech) : IClassFixture<SpokenPhrase>, IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly string _speech8k = speech.Path8k;
    private readonly short[] _pcm = speech.Pcm;

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(Law.MuLaw)]
    [InlineData(Law.ALaw)]
    public void Speech_encoded_by_sox_decodes_as_sox_decodes_it(Law law)
    {
        var encoded = G711ReferenceTests.EncodeWithSox(law, _speech8k, _directory);
        var encodedPath = _directory.File($"speech.{G711ReferenceTests.SoxType(law)}");
        File.WriteAllBytes(encodedPath, encoded);

        var soxDecoded = ExternalTools.ToSamples(ExternalTools.RunSox(
            "-t", G711ReferenceTests.SoxType(law), "-r", "8000", "-c", "1", encodedPath, "-t", "s16", "-e", "signed-integer", "-"));

        Assert.True(encoded.Distinct().Count() > 100, "The speech should exercise most of the codes; it used only a few.");
        AudioAssert.SameSamples(soxDecoded, G711ReferenceTests.Decode(law, encoded), $"{law} decode of SoX-encoded speech vs SoX's");
    }

    [Theory]
    [InlineData(Law.MuLaw)]
    [InlineData(Law.ALaw)]
    public void Speech_encodes_as_audioop_encodes_it(Law law)
    {
        var audioop = ExternalTools.Audioop(law == Law.MuLaw ? "lin2ulaw" : "lin2alaw", ExternalTools.ToBytes(_pcm));

        AudioAssert.SameBytes(audioop, G711ReferenceTests.Encode(law, _pcm), $"{law} encode of speech vs audioop");
    }

    [Theory]
    [InlineData(Law.MuLaw)]
    [InlineData(Law.ALaw)]
    public void Speech_encodes_as_sox_encodes_it_given_soxs_rounding(Law law)
    {
        // See G711ReferenceTests: SoX rounds to 14 (13) bits where the reference rule truncates.
        var sox = G711ReferenceTests.EncodeWithSox(law, _speech8k, _directory);

        AudioAssert.SameBytes(sox, G711ReferenceTests.Encode(law, G711ReferenceTests.RoundedAsSoxEncodes(law, _pcm)), $"{law} encode of speech vs SoX");
    }

    [Theory]
    [InlineData(Law.MuLaw)]
    [InlineData(Law.ALaw)]
    public void Speech_survives_encoding_and_decoding_at_g711_quality(Law law)
    {
        // G.711 is about 38 dB SNR on speech at a sensible level; a wrong segment or sign would ruin it.
        var decoded = G711ReferenceTests.Decode(law, G711ReferenceTests.Encode(law, _pcm));

        double signal = 0, noise = 0;
        for (var i = 0; i < _pcm.Length; i++)
        {
            signal += (double)_pcm[i] * _pcm[i];
            noise += (double)(_pcm[i] - decoded[i]) * (_pcm[i] - decoded[i]);
        }

        Assert.InRange(10 * Math.Log10(signal / noise), 30, 45);
    }
}

/// <summary>A few sentences spoken by espeak-ng and converted by SoX to an 8 kHz mono PCM16 WAV file, made once per test class.</summary>
public sealed class SpokenPhrase : IDisposable
{
    private const string Script =
        "Thank you for calling Voice Kraliki. Your call is important to us. "
        + "Please hold while we connect you to the next available agent.";

    private readonly TempDirectory _directory = new();

    public SpokenPhrase()
    {
        var spoken = _directory.File("spoken.wav");
        ExternalTools.Run(ExternalTools.EspeakNg, ["-w", spoken, Script]);
        Path8k = _directory.File("speech-8k.wav");
        ExternalTools.RunSox(spoken, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", Path8k);

        var (sampleRate, channels, samples) = WavFile.Read(Path8k);
        Assert.Equal(8000, sampleRate);
        Assert.Equal(1, channels);
        Assert.InRange(samples.Length / 8000.0, 4.0, 10.0);
        Pcm = samples;
    }

    public string Path8k { get; }

    public short[] Pcm { get; }

    public void Dispose() => _directory.Dispose();
}
