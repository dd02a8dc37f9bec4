using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace VoiceKraliki.Telephony.Audio;

/// <summary>
/// Streaming PCM16 mono sample-rate converter between 8, 16, 24 and 48 kHz: a windowed-sinc polyphase FIR at the
/// rational ratio L/M (upsample by L, low-pass, keep every M-th sample), with its history and phase kept per
/// instance, so that the outputs of successive <see cref="Process"/> calls concatenated are exactly the output of one
/// call on the concatenated input. Keep one instance per stream for its whole life (PROTOCOLS.md §8.3).
/// </summary>
/// <remarks>
/// <para>
/// Filter: Kaiser window (β = 8.96, designed for 90 dB stopband attenuation), passband to 0.85 of the lower rate's
/// Nyquist frequency (3.4 kHz for a pair with 8 kHz), stopband from that Nyquist frequency on, so nothing above the
/// output's Nyquist aliases when downsampling and no image survives upsampling. That takes about 80 taps per phase
/// for every upsampling pair; downsampling by M takes about 80·M taps per output sample.
/// </para>
/// <para>
/// The filter is causal and linear-phase: every output is a complete sample (the count for <c>n</c> input samples is
/// exactly <c>n·L/M</c> over the whole stream, rounded up per call by the carried phase, and a 20 ms frame always
/// yields a 20 ms frame), but the signal inside is delayed by the group delay <c>(taps − 1) / 2</c> at the upsampled
/// rate (<see cref="GroupDelay"/>), which is set by the lower rate: about 5.0 ms for every pair with 8 kHz (4.8 ms
/// from 24 and 48 kHz), 2.5 ms for 16↔24 and 16↔48 kHz (2.4 ms for 48→16), 1.7 ms for 24↔48 kHz. The first few
/// milliseconds of output are therefore the filter filling from silence, not skipped. Output samples are rounded to
/// nearest and saturated to the PCM16 range. Same rate in and out is a plain copy.
/// </para>
/// </remarks>
public sealed class PcmResampler
{
    private const double StopbandAttenuationDb = 90;
    private const double PassbandEdge = 0.85; // of the lower rate's Nyquist frequency; the stopband starts at 1.0
    private const int ChunkLength = 960; // input samples staged per pass: 20 ms at 48 kHz

    private static readonly ConcurrentDictionary<(int Input, int Output), FilterDesign> Designs = new();

    private readonly FilterDesign? _design;
    private readonly float[] _window = [];
    private int _nextInput; // index, relative to the next call's first input sample, of the newest sample the next output needs
    private int _phase; // which of the L polyphase branches the next output uses

    /// <param name="inputRate">8000, 16000, 24000 or 48000 Hz.</param>
    /// <param name="outputRate">8000, 16000, 24000 or 48000 Hz.</param>
    public PcmResampler(int inputRate, int outputRate)
    {
        if (!IsSupportedRate(inputRate))
        {
            throw new ArgumentOutOfRangeException(nameof(inputRate), inputRate, "Supported rates are 8000, 16000, 24000 and 48000 Hz.");
        }

        if (!IsSupportedRate(outputRate))
        {
            throw new ArgumentOutOfRangeException(nameof(outputRate), outputRate, "Supported rates are 8000, 16000, 24000 and 48000 Hz.");
        }

        InputRate = inputRate;
        OutputRate = outputRate;
        if (inputRate != outputRate)
        {
            _design = Designs.GetOrAdd((inputRate, outputRate), static key => new FilterDesign(key.Input, key.Output));
            _window = new float[_design.TapsPerPhase - 1 + ChunkLength];
        }
    }

    public int InputRate { get; }

    public int OutputRate { get; }

    /// <summary>How late the signal comes out: the FIR's group delay ((taps − 1) / 2 at the upsampled rate); zero for a copy.</summary>
    public TimeSpan GroupDelay => _design is null ? TimeSpan.Zero : TimeSpan.FromSeconds(_design.GroupDelaySeconds);

    /// <summary>Total FIR length (all phases together); zero for a copy.</summary>
    internal int FilterLength => _design is null ? 0 : _design.TapsPerPhase * _design.Up;

    internal int TapsPerPhase => _design?.TapsPerPhase ?? 0;

    public static bool IsSupportedRate(int rate) => rate is 8000 or 16000 or 24000 or 48000;

    /// <summary>The most samples <see cref="Process"/> writes for <paramref name="inputLength"/> input samples, whatever the carried phase.</summary>
    public int MaxOutputLength(int inputLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputLength);
        if (_design is null)
        {
            return inputLength;
        }

        return checked((int)(((long)inputLength * _design.Up + _design.Down - 1) / _design.Down));
    }

    /// <summary>
    /// Resamples <paramref name="input"/>, continuing from the previous call, into the start of <paramref name="output"/>
    /// and returns how many samples it wrote. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="output"/> is too short for this call (nothing is consumed).</exception>
    public int Process(ReadOnlySpan<short> input, Span<short> output)
    {
        if (_design is null)
        {
            if (output.Length < input.Length)
            {
                throw new ArgumentException($"The output has room for {output.Length} samples; {input.Length} are needed.", nameof(output));
            }

            input.CopyTo(output);
            return input.Length;
        }

        var needed = OutputCount(input.Length);
        if (output.Length < needed)
        {
            throw new ArgumentException($"The output has room for {output.Length} samples; {needed} are needed.", nameof(output));
        }

        var written = 0;
        while (!input.IsEmpty)
        {
            var count = Math.Min(input.Length, ChunkLength);
            written += ProcessChunk(input[..count], output[written..]);
            input = input[count..];
        }

        return written;
    }

    /// <summary>Forgets the history and phase, as for a new stream.</summary>
    public void Reset()
    {
        Array.Clear(_window);
        _nextInput = 0;
        _phase = 0;
    }

    /// <summary>Outputs whose newest needed input falls among the next <paramref name="inputLength"/> samples.</summary>
    private int OutputCount(int inputLength)
    {
        var design = _design!;

        // Output k from now needs input _nextInput + floor((_phase + k·M) / L); count the k for which that is < inputLength.
        var span = (long)(inputLength - _nextInput) * design.Up - _phase;
        return span <= 0 ? 0 : (int)((span + design.Down - 1) / design.Down);
    }

    private int ProcessChunk(ReadOnlySpan<short> input, Span<short> output)
    {
        var design = _design!;
        var taps = design.TapsPerPhase;
        var window = _window.AsSpan();

        // _window[0 .. taps-1) holds the newest taps-1 earlier samples; this chunk goes right after them, so the taps
        // for an output whose newest input is chunk sample r are exactly _window[r .. r+taps).
        var staged = window.Slice(taps - 1, input.Length);
        for (var i = 0; i < input.Length; i++)
        {
            staged[i] = input[i];
        }

        var written = 0;
        var next = _nextInput;
        var phase = _phase;
        ref var samples = ref MemoryMarshal.GetArrayDataReference(_window);
        while (next < input.Length)
        {
            output[written++] = Saturate(Dot(ref design.Phase(phase), ref Unsafe.Add(ref samples, next), taps));
            next += design.Advance[phase];
            phase = design.NextPhase[phase];
        }

        window.Slice(input.Length, taps - 1).CopyTo(window);
        _nextInput = next - input.Length;
        _phase = phase;
        return written;
    }

    /// <summary>Σ coefficients[i]·samples[i] over <paramref name="length"/> (a multiple of 8) floats, two vectors at a time where it can.</summary>
    private static float Dot(ref float coefficients, ref float samples, int length)
    {
        var i = 0;
        var sum = 0f;
        if (Vector.IsHardwareAccelerated && length >= 2 * Vector<float>.Count)
        {
            var width = Vector<float>.Count;
            var even = Vector<float>.Zero;
            var odd = Vector<float>.Zero;
            for (; i + 2 * width <= length; i += 2 * width)
            {
                even += Vector.LoadUnsafe(ref coefficients, (nuint)i) * Vector.LoadUnsafe(ref samples, (nuint)i);
                odd += Vector.LoadUnsafe(ref coefficients, (nuint)(i + width)) * Vector.LoadUnsafe(ref samples, (nuint)(i + width));
            }

            sum = Vector.Sum(even + odd);
        }

        for (; i < length; i++)
        {
            sum += Unsafe.Add(ref coefficients, i) * Unsafe.Add(ref samples, i);
        }

        return sum;
    }

    private static short Saturate(float value)
    {
        var rounded = MathF.Round(value, MidpointRounding.AwayFromZero);
        return rounded >= short.MaxValue ? short.MaxValue : rounded <= short.MinValue ? short.MinValue : (short)rounded;
    }

    /// <summary>The polyphase tables for one (input, output) pair, shared by every resampler of that pair.</summary>
    private sealed class FilterDesign
    {
        private readonly float[] _coefficients; // L phases × TapsPerPhase, each phase oldest tap first

        public FilterDesign(int inputRate, int outputRate)
        {
            var gcd = Gcd(inputRate, outputRate);
            Up = outputRate / gcd;
            Down = inputRate / gcd;

            var upsampledRate = (double)inputRate * Up;
            var nyquist = Math.Min(inputRate, outputRate) / 2.0;
            var transition = (1 - PassbandEdge) * nyquist / upsampledRate; // cycles per upsampled sample
            var cutoff = (1 + PassbandEdge) / 2 * nyquist / upsampledRate;

            // Kaiser's estimate of the length for the attenuation and transition width, then whole phases of a
            // multiple of 8 taps so the dot product runs in full vectors.
            var minimumLength = (int)Math.Ceiling((StopbandAttenuationDb - 7.95) / (14.36 * transition)) + 1;
            TapsPerPhase = RoundUp((minimumLength + Up - 1) / Up, 8);
            var length = TapsPerPhase * Up;
            GroupDelaySeconds = (length - 1) / 2.0 / upsampledRate;

            var beta = 0.1102 * (StopbandAttenuationDb - 8.7);
            var prototype = new double[length];
            var center = (length - 1) / 2.0;
            var sum = 0.0;
            for (var k = 0; k < length; k++)
            {
                var x = k - center;
                var sinc = x == 0 ? 2 * cutoff : Math.Sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
                var ratio = 2 * x / (length - 1);
                prototype[k] = sinc * BesselI0(beta * Math.Sqrt(1 - ratio * ratio)) / BesselI0(beta);
                sum += prototype[k];
            }

            // Unity gain at DC after upsampling: each phase sees one in L of the zero-stuffed samples.
            var gain = Up / sum;

            // Output n is Σ_m h[p + m·L]·x[i − m] with i = ⌊n·M/L⌋, p = n·M mod L; store each phase reversed so
            // it lines up with the input window x[i − taps + 1 .. i].
            Advance = new int[Up];
            NextPhase = new int[Up];
            for (var p = 0; p < Up; p++)
            {
                Advance[p] = (p + Down) / Up;
                NextPhase[p] = (p + Down) % Up;
            }

            _coefficients = new float[length];
            for (var p = 0; p < Up; p++)
            {
                for (var m = 0; m < TapsPerPhase; m++)
                {
                    _coefficients[p * TapsPerPhase + TapsPerPhase - 1 - m] = (float)(prototype[p + m * Up] * gain);
                }
            }
        }

        public int Up { get; }

        public int Down { get; }

        public int TapsPerPhase { get; }

        public double GroupDelaySeconds { get; }

        /// <summary>How many input samples further the output after one in phase p needs: ⌊(p + M) / L⌋.</summary>
        public int[] Advance { get; }

        /// <summary>The phase of the output after one in phase p: (p + M) mod L.</summary>
        public int[] NextPhase { get; }

        /// <summary>The first of phase <paramref name="phase"/>'s <see cref="TapsPerPhase"/> coefficients.</summary>
        public ref float Phase(int phase) => ref _coefficients[phase * TapsPerPhase];

        private static double BesselI0(double x)
        {
            var term = 1.0;
            var sum = 1.0;
            var quarterSquare = x * x / 4;
            for (var k = 1; k < 200 && term > 1e-17 * sum; k++)
            {
                term *= quarterSquare / ((double)k * k);
                sum += term;
            }

            return sum;
        }

        private static int Gcd(int a, int b) => b == 0 ? a : Gcd(b, a % b);

        private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
    }
}
