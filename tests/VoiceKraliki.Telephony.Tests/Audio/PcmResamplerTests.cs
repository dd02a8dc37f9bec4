using VoiceKraliki.Telephony.Audio;
using Xunit.Abstractions;

namespace VoiceKraliki.Telephony.Tests.Audio;

public class PcmResamplerTests(ITestOutputHelper output)
{
    private const double Amplitude = 20_000;

    /// <summary>Long enough for any pair's FIR (≤ 10 ms) to fill; everything after it is steady state.</summary>
    private const double WarmUpSeconds = 0.03;

    private static readonly int[] Rates = [8000, 16000, 24000, 48000];

    public static TheoryData<int, int> Pairs()
    {
        var pairs = new TheoryData<int, int>();
        foreach (var input in Rates)
        {
            foreach (var outputRate in Rates.Where(rate => rate != input))
            {
                pairs.Add(input, outputRate);
            }
        }

        return pairs;
    }

    public static TheoryData<int, int> DownsamplingPairs()
    {
        var pairs = new TheoryData<int, int>();
        foreach (var input in Rates)
        {
            foreach (var outputRate in Rates.Where(rate => rate < input))
            {
                pairs.Add(input, outputRate);
            }
        }

        return pairs;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void A_1kHz_tone_comes_out_at_1kHz_at_the_same_level_and_clean(int inputRate, int outputRate)
    {
        var input = Tone(inputRate, 1000, Amplitude, 0.5);

        var resampled = ResampleAll(inputRate, outputRate, input);

        var steady = SteadyState(resampled, outputRate, 1000);
        var frequency = ZeroCrossingFrequency(steady, outputRate);
        var (level, residual) = Fit(steady, outputRate, 1000);
        var (inputLevel, _) = Fit(SteadyState(input, inputRate, 1000), inputRate, 1000);
        var gainDb = 20 * Math.Log10(level / inputLevel);
        var residualDb = 20 * Math.Log10(residual / (level / Math.Sqrt(2)));
        output.WriteLine($"{inputRate}→{outputRate}: {frequency:F4} Hz, gain {gainDb:+0.00000;-0.00000} dB, noise+distortion+images {residualDb:F1} dB");

        Assert.InRange(frequency, 999.9, 1000.1);
        Assert.InRange(gainDb, -0.1, 0.1);

        // Images when upsampling, aliases and rounding: all of it far below the tone (16-bit rounding alone is about −90 dB here).
        Assert.True(residualDb < -80, $"Everything but the 1 kHz tone is {residualDb:F1} dB relative to it.");
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void The_telephone_band_edge_passes_unchanged(int inputRate, int outputRate)
    {
        // 0.85 of the lower Nyquist frequency: 3.4 kHz for every pair with 8 kHz in it.
        var frequency = 0.85 * Math.Min(inputRate, outputRate) / 2;
        var input = Tone(inputRate, frequency, Amplitude, 0.5);

        var resampled = ResampleAll(inputRate, outputRate, input);

        var (level, _) = Fit(SteadyState(resampled, outputRate, frequency), outputRate, frequency);
        var (inputLevel, _) = Fit(SteadyState(input, inputRate, frequency), inputRate, frequency);
        var gainDb = 20 * Math.Log10(level / inputLevel);
        output.WriteLine($"{inputRate}→{outputRate}: {frequency} Hz gain {gainDb:+0.0000;-0.0000} dB");
        Assert.InRange(gainDb, -0.1, 0.1);
    }

    [Theory]
    [MemberData(nameof(DownsamplingPairs))]
    public void Tones_above_the_output_nyquist_frequency_are_attenuated_at_least_60dB(int inputRate, int outputRate)
    {
        var nyquist = outputRate / 2.0;
        var frequencies = new[] { 1.05, 1.25, 1.5, 2, 3, 4, 5 }.Select(factor => factor * nyquist)
            .Append(0.6 * inputRate / 2)
            .Append(0.95 * inputRate / 2)
            .Where(frequency => frequency > nyquist && frequency < inputRate / 2.0)
            .Distinct()
            .Order();

        foreach (var frequency in frequencies)
        {
            var input = Tone(inputRate, frequency, Amplitude, 0.5);

            var resampled = ResampleAll(inputRate, outputRate, input);

            var steady = resampled.AsSpan((int)(WarmUpSeconds * outputRate));
            var attenuationDb = 20 * Math.Log10(Rms(steady) / (Amplitude / Math.Sqrt(2)));
            output.WriteLine($"{inputRate}→{outputRate}: {frequency} Hz comes out at {attenuationDb:F1} dB");
            Assert.True(attenuationDb <= -60, $"{frequency} Hz, above the output's {nyquist} Hz Nyquist frequency, came out at {attenuationDb:F1} dB.");
        }
    }

    public static TheoryData<int, int, int[]> Chunkings()
    {
        var data = new TheoryData<int, int, int[]>();
        foreach (var input in Rates)
        {
            foreach (var outputRate in Rates)
            {
                data.Add(input, outputRate, [input / 50]);
                data.Add(input, outputRate, [7]);
                data.Add(input, outputRate, [161]);
                data.Add(input, outputRate, [1]);
                data.Add(input, outputRate, [0, 3, 1000, 1, 0, 2047, 13, 960, 5]);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Chunkings))]
    public void Streaming_in_pieces_gives_exactly_the_output_of_one_call(int inputRate, int outputRate, int[] pieceLengths)
    {
        var input = Noise(inputRate, 1.0, seed: inputRate + outputRate);
        var whole = ResampleAll(inputRate, outputRate, input);

        var resampler = new PcmResampler(inputRate, outputRate);
        var streamed = new List<short>();
        var offset = 0;
        for (var piece = 0; offset < input.Length; piece++)
        {
            var length = Math.Min(pieceLengths[piece % pieceLengths.Length], input.Length - offset);
            var buffer = new short[resampler.MaxOutputLength(length)];
            var written = resampler.Process(input.AsSpan(offset, length), buffer);
            streamed.AddRange(buffer.AsSpan(0, written));
            offset += length;
        }

        Assert.Equal((long)input.Length * outputRate / inputRate, whole.Length);
        AudioAssert.SameSamples(whole, streamed.ToArray(), $"{inputRate}→{outputRate} in pieces of {string.Join(',', pieceLengths)}");
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Every_20ms_frame_yields_a_full_20ms_frame_from_the_first_one_on(int inputRate, int outputRate)
    {
        var resampler = new PcmResampler(inputRate, outputRate);
        var input = Noise(inputRate, 1.0, seed: 20);
        var frame = new short[resampler.MaxOutputLength(inputRate / 50)];

        for (var offset = 0; offset < input.Length; offset += inputRate / 50)
        {
            Assert.Equal(outputRate / 50, resampler.Process(input.AsSpan(offset, inputRate / 50), frame));
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Group_delay_is_what_the_resampler_reports_and_at_most_5ms(int inputRate, int outputRate)
    {
        // A linear-phase FIR's impulse response is symmetric about its delay, so its centroid is the delay.
        var resampler = new PcmResampler(inputRate, outputRate);
        var impulseAt = inputRate / 100;
        var input = new short[inputRate / 20];
        input[impulseAt] = 16_000;

        var response = ResampleAll(inputRate, outputRate, input);

        double moment = 0, sum = 0;
        for (var n = 0; n < response.Length; n++)
        {
            moment += (double)n * response[n];
            sum += response[n];
        }

        var delay = moment / sum / outputRate - (double)impulseAt / inputRate;
        output.WriteLine($"{inputRate}→{outputRate}: measured {delay * 1000:F3} ms, reported {resampler.GroupDelay.TotalMilliseconds:F3} ms");
        Assert.InRange(delay, resampler.GroupDelay.TotalSeconds - 0.000_05, resampler.GroupDelay.TotalSeconds + 0.000_05);
        Assert.InRange(resampler.GroupDelay.TotalMilliseconds, 1, 5);
    }

    [Theory]
    [InlineData(16000, 8000)]
    [InlineData(8000, 48000)]
    [InlineData(24000, 16000)]
    public void A_full_scale_square_wave_saturates_instead_of_wrapping(int inputRate, int outputRate)
    {
        // The band-limited square overshoots (Gibbs) past full scale; the overshoot must clip, never wrap to the other
        // sign. The same square at exactly half the level fits, so the full one must be that, doubled and clipped.
        var period = inputRate / 500;
        short[] Square(short level) =>
            Enumerable.Range(0, inputRate / 2).Select(i => i % period < period / 2 ? level : (short)-level).ToArray();

        var full = ResampleAll(inputRate, outputRate, Square(32_766));
        var half = ResampleAll(inputRate, outputRate, Square(16_383));

        Assert.Contains(short.MaxValue, full);
        Assert.Contains(short.MinValue, full);
        for (var i = 0; i < full.Length; i++)
        {
            var expected = Math.Clamp(2 * half[i], short.MinValue, short.MaxValue);
            Assert.True(Math.Abs(full[i] - expected) <= 2, $"Sample {i} is {full[i]}; twice the half-level output, clipped, is {expected}.");
        }
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Processing_a_frame_allocates_nothing(int inputRate, int outputRate)
    {
        var resampler = new PcmResampler(inputRate, outputRate);
        var frame = Noise(inputRate, 0.02, seed: 1);
        var resampled = new short[resampler.MaxOutputLength(frame.Length)];
        for (var i = 0; i < 200; i++)
        {
            resampler.Process(frame, resampled);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 2000; i++)
        {
            resampler.Process(frame, resampled);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Reset_starts_over_as_a_new_instance_would()
    {
        var input = Noise(8000, 0.1, seed: 3);
        var used = new PcmResampler(8000, 24000);
        ResampleInto(used, Noise(8000, 0.05, seed: 4));

        used.Reset();

        AudioAssert.SameSamples(ResampleAll(8000, 24000, input), ResampleInto(used, input), "after Reset vs fresh");
    }

    [Fact]
    public void Same_rate_is_a_copy()
    {
        var input = Noise(16000, 0.02, seed: 5);
        var resampler = new PcmResampler(16000, 16000);

        AudioAssert.SameSamples(input, ResampleInto(resampler, input), "16000→16000");
        Assert.Equal(TimeSpan.Zero, resampler.GroupDelay);
        Assert.Equal(320, resampler.MaxOutputLength(320));
    }

    [Theory]
    [InlineData(44100)]
    [InlineData(11025)]
    [InlineData(0)]
    [InlineData(-8000)]
    public void Unsupported_rates_are_rejected(int rate)
    {
        Assert.False(PcmResampler.IsSupportedRate(rate));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PcmResampler(rate, 8000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PcmResampler(16000, rate));
    }

    [Fact]
    public void Output_too_short_is_rejected_and_consumes_nothing()
    {
        var input = Noise(8000, 0.1, seed: 6);
        var resampler = new PcmResampler(8000, 16000);

        Assert.Throws<ArgumentException>(() => resampler.Process(input.AsSpan(0, 160), new short[319]));

        AudioAssert.SameSamples(ResampleAll(8000, 16000, input), ResampleInto(resampler, input), "after a rejected call vs fresh");
    }

    private static short[] ResampleAll(int inputRate, int outputRate, short[] input) =>
        ResampleInto(new PcmResampler(inputRate, outputRate), input);

    private static short[] ResampleInto(PcmResampler resampler, short[] input)
    {
        var buffer = new short[resampler.MaxOutputLength(input.Length)];
        var written = resampler.Process(input, buffer);
        return buffer[..written];
    }

    private static short[] Tone(int rate, double frequency, double amplitude, double seconds) =>
        Enumerable.Range(0, (int)(rate * seconds))
            .Select(n => (short)Math.Round(amplitude * Math.Sin(2 * Math.PI * frequency * n / rate)))
            .ToArray();

    /// <summary>Full-band noise plus a tone: every tap and phase of the filter matters to it.</summary>
    private static short[] Noise(int rate, double seconds, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, (int)(rate * seconds))
            .Select(n => (short)Math.Round(8000 * Math.Sin(2 * Math.PI * 440 * n / rate) + random.Next(-12_000, 12_000)))
            .ToArray();
    }

    /// <summary>The signal after the filter's warm-up, cut to a whole number of periods of <paramref name="frequency"/> where it has one.</summary>
    private static short[] SteadyState(short[] signal, int rate, double frequency)
    {
        var start = (int)(WarmUpSeconds * rate);
        var length = signal.Length - start;
        var period = rate / frequency;
        if (Math.Abs(period - Math.Round(period)) < 1e-9)
        {
            length -= length % (int)Math.Round(period);
        }

        return signal.AsSpan(start, length).ToArray();
    }

    /// <summary>Least-squares amplitude of the sinusoid at <paramref name="frequency"/>, and the RMS of what is left.</summary>
    private static (double Amplitude, double ResidualRms) Fit(short[] signal, int rate, double frequency)
    {
        double cc = 0, ss = 0, cs = 0, xc = 0, xs = 0;
        for (var n = 0; n < signal.Length; n++)
        {
            var (sin, cos) = Math.SinCos(2 * Math.PI * frequency * n / rate);
            cc += cos * cos;
            ss += sin * sin;
            cs += cos * sin;
            xc += signal[n] * cos;
            xs += signal[n] * sin;
        }

        var determinant = cc * ss - cs * cs;
        var a = (xc * ss - xs * cs) / determinant;
        var b = (xs * cc - xc * cs) / determinant;
        double residual = 0;
        for (var n = 0; n < signal.Length; n++)
        {
            var (sin, cos) = Math.SinCos(2 * Math.PI * frequency * n / rate);
            var error = signal[n] - (a * cos + b * sin);
            residual += error * error;
        }

        return (Math.Sqrt(a * a + b * b), Math.Sqrt(residual / signal.Length));
    }

    /// <summary>Upward zero crossings, located by linear interpolation between samples, over the time they span.</summary>
    private static double ZeroCrossingFrequency(short[] signal, int rate)
    {
        double? first = null;
        double last = 0;
        var crossings = 0;
        for (var n = 1; n < signal.Length; n++)
        {
            if (signal[n - 1] < 0 && signal[n] >= 0)
            {
                var at = n - 1 + (double)-signal[n - 1] / (signal[n] - signal[n - 1]);
                first ??= at;
                last = at;
                crossings++;
            }
        }

        Assert.True(crossings > 10, $"Only {crossings} zero crossings.");
        return (crossings - 1) / ((last - first!.Value) / rate);
    }

    private static double Rms(ReadOnlySpan<short> signal)
    {
        double sum = 0;
        foreach (var sample in signal)
        {
            sum += (double)sample * sample;
        }

        return Math.Sqrt(sum / signal.Length);
    }
}
