using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using VoiceKraliki.Telephony.Audio;

namespace VoiceKraliki.Benchmarks;

/// <summary>
/// The per-frame cost of the media path's audio work: G.711 decode and encode of one 20 ms telephone frame
/// (160 samples), and PCM16 resampling of one 20 ms frame between the rates the bridge uses. The resamplers run
/// continuously across invocations, as on a live stream (steady state: history full, phase carried).
/// Two extra columns: MB/s of PCM16 (the PCM side of a codec, the input side of a resampler) and how many
/// real-time streams one core could keep up with (20 ms / mean).
/// </summary>
[MemoryDiagnoser]
[Config(typeof(AudioBenchmarkConfig))]
public class AudioBenchmarks
{
    private const int TelephoneFrame = 160; // 20 ms at 8 kHz

    private readonly byte[] _muLaw = new byte[TelephoneFrame];
    private readonly byte[] _aLaw = new byte[TelephoneFrame];
    private readonly short[] _telephonePcm = new short[TelephoneFrame];
    private readonly byte[] _encoded = new byte[TelephoneFrame];
    private readonly short[] _decoded = new short[TelephoneFrame];

    private readonly Resampling _up8To16 = new(8000, 16000);
    private readonly Resampling _down16To8 = new(16000, 8000);
    private readonly Resampling _up8To24 = new(8000, 24000);
    private readonly Resampling _down24To8 = new(24000, 8000);
    private readonly Resampling _down48To8 = new(48000, 8000);

    [GlobalSetup]
    public void Setup()
    {
        // Speech-like content: a few tones plus noise at a conversational level, so every G.711 segment is used.
        var random = new Random(711);
        for (var i = 0; i < TelephoneFrame; i++)
        {
            _telephonePcm[i] = (short)(6000 * Math.Sin(i * 0.31) + 3000 * Math.Sin(i * 1.7) + random.Next(-2000, 2000));
        }

        G711.EncodeMuLaw(_telephonePcm, _muLaw);
        G711.EncodeALaw(_telephonePcm, _aLaw);
    }

    [Benchmark(Description = "μ-law decode 20 ms (160 samples)")]
    [PcmBytes(TelephoneFrame * 2)]
    public short MuLawDecode()
    {
        G711.DecodeMuLaw(_muLaw, _decoded);
        return _decoded[^1];
    }

    [Benchmark(Description = "A-law decode 20 ms (160 samples)")]
    [PcmBytes(TelephoneFrame * 2)]
    public short ALawDecode()
    {
        G711.DecodeALaw(_aLaw, _decoded);
        return _decoded[^1];
    }

    [Benchmark(Description = "μ-law encode 20 ms (160 samples)")]
    [PcmBytes(TelephoneFrame * 2)]
    public byte MuLawEncode()
    {
        G711.EncodeMuLaw(_telephonePcm, _encoded);
        return _encoded[^1];
    }

    [Benchmark(Description = "A-law encode 20 ms (160 samples)")]
    [PcmBytes(TelephoneFrame * 2)]
    public byte ALawEncode()
    {
        G711.EncodeALaw(_telephonePcm, _encoded);
        return _encoded[^1];
    }

    [Benchmark(Description = "resample 8k→16k 20 ms")]
    [PcmBytes(8000 / 50 * 2)]
    public int Resample8To16() => _up8To16.Frame();

    [Benchmark(Description = "resample 16k→8k 20 ms")]
    [PcmBytes(16000 / 50 * 2)]
    public int Resample16To8() => _down16To8.Frame();

    [Benchmark(Description = "resample 8k→24k 20 ms")]
    [PcmBytes(8000 / 50 * 2)]
    public int Resample8To24() => _up8To24.Frame();

    [Benchmark(Description = "resample 24k→8k 20 ms")]
    [PcmBytes(24000 / 50 * 2)]
    public int Resample24To8() => _down24To8.Frame();

    [Benchmark(Description = "resample 48k→8k 20 ms")]
    [PcmBytes(48000 / 50 * 2)]
    public int Resample48To8() => _down48To8.Frame();

    /// <summary>One stream's resampler with a 20 ms input frame of a 440 Hz tone plus noise, and room for its output.</summary>
    private sealed class Resampling
    {
        private readonly PcmResampler _resampler;
        private readonly short[] _input;
        private readonly short[] _output;

        public Resampling(int inputRate, int outputRate)
        {
            _resampler = new PcmResampler(inputRate, outputRate);
            var random = new Random(inputRate + outputRate);
            _input = Enumerable.Range(0, inputRate / 50)
                .Select(n => (short)(8000 * Math.Sin(2 * Math.PI * 440 * n / inputRate) + random.Next(-3000, 3000)))
                .ToArray();
            _output = new short[_resampler.MaxOutputLength(_input.Length)];
        }

        public int Frame() => _resampler.Process(_input, _output);
    }
}

/// <summary>How many bytes of PCM16 one invocation of the benchmark processes (for the MB/s column).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class PcmBytesAttribute(int bytes) : Attribute
{
    public int Bytes { get; } = bytes;
}

public sealed class AudioBenchmarkConfig : ManualConfig
{
    public AudioBenchmarkConfig()
    {
        AddColumn(new DerivedColumn("MB/s PCM16", "PCM16 megabytes (10^6 B) per second on one core", (bytes, meanNs) => bytes * 1000.0 / meanNs));
        AddColumn(new DerivedColumn("Streams/core", "20 ms frames per 20 ms on one core: real-time streams one core keeps up with", (_, meanNs) => 20_000_000.0 / meanNs));
    }

    /// <summary>A column computed from the benchmark's mean time and its <see cref="PcmBytesAttribute"/>.</summary>
    private sealed class DerivedColumn(string name, string legend, Func<int, double, double> compute) : IColumn
    {
        public string Id => nameof(DerivedColumn) + name;

        public string ColumnName => name;

        public bool AlwaysShow => true;

        public ColumnCategory Category => ColumnCategory.Custom;

        public int PriorityInCategory => 0;

        public bool IsNumeric => true;

        public UnitType UnitType => UnitType.Dimensionless;

        public string Legend => legend;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
            var bytes = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<PcmBytesAttribute>()?.Bytes;
            return mean is > 0 && bytes is not null
                ? compute(bytes.Value, mean.Value).ToString("N0", CultureInfo.InvariantCulture)
                : "-";
        }

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;
    }
}
