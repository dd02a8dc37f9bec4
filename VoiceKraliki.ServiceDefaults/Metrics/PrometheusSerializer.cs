using System.Buffers;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace VoiceKraliki.ServiceDefaults.Metrics;

/// <summary>
/// Serializes one batch of cumulative metrics as Prometheus text exposition format 0.0.4.
/// Families are sorted by name and written as one block each (HELP, TYPE, then every sample, from
/// every meter that contributes to the family); every sample carries <c>otel_scope_name</c> (and
/// <c>otel_scope_version</c> when the meter has one). Not thread-safe: the exporter calls it under
/// its lock.
/// </summary>
internal sealed partial class PrometheusSerializer
{
    private const string Counter = "counter";
    private const string Gauge = "gauge";
    private const string Histogram = "histogram";
    private const string TargetInfo = "target_info";
    private const string ScopeName = "otel_scope_name";
    private const string ScopeVersion = "otel_scope_version";

    /// <summary>Label-key caches stay this small so that a meter with unbounded tag keys cannot grow them forever.</summary>
    private const int MaxCachedLabelNames = 4096;

    private readonly ConditionalWeakTable<Metric, MetricStream> _streams = [];
    private readonly Dictionary<string, string> _labelNames = new(StringComparer.Ordinal);
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Family> _families = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _sampleNameOwners = new(StringComparer.Ordinal);
    private readonly List<Label> _labels = [];
    private readonly ArrayBufferWriter<byte> _labelText = new(256);

    public ILogger Logger { get; set; } = NullLogger.Instance;

    public void Write(ArrayBufferWriter<byte> output, in Batch<Metric> batch, Resource? resource)
    {
        _families.Clear();
        _sampleNameOwners.Clear();

        var writeTargetInfo = resource is not null && resource.Attributes.Any();
        if (writeTargetInfo)
        {
            // Owned by no family, so that an instrument named target.info is reported as a clash.
            _sampleNameOwners[TargetInfo] = string.Empty;
        }

        foreach (var metric in batch)
        {
            AddToFamily(metric);
        }

        if (writeTargetInfo)
        {
            WriteTargetInfo(output, resource!);
        }

        var families = _families.Values.ToList();
        families.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var family in families)
        {
            WriteFamily(output, family);
        }
    }

    private void AddToFamily(Metric metric)
    {
        var stream = _streams.GetValue(metric, Describe);
        if (stream.Type is null)
        {
            if (_reported.Add("unsupported\n" + metric.MeterName + "\n" + metric.Name))
            {
                LogUnsupportedMetric(Logger, metric.Name, metric.MeterName, metric.MetricType);
            }

            return;
        }

        if (_families.TryGetValue(stream.FamilyName, out var existing))
        {
            if (existing.Type == stream.Type)
            {
                existing.Metrics.Add(metric);
                return;
            }

            ReportConflict(metric, stream, existing.Name);
            return;
        }

        foreach (var sampleName in stream.SampleNames)
        {
            if (_sampleNameOwners.TryGetValue(sampleName, out var owner) && owner != stream.FamilyName)
            {
                ReportConflict(metric, stream, owner);
                return;
            }
        }

        foreach (var sampleName in stream.SampleNames)
        {
            _sampleNameOwners[sampleName] = stream.FamilyName;
        }

        _families.Add(stream.FamilyName, new Family(stream.FamilyName, stream.Type, stream.Help, [metric]));
    }

    private void ReportConflict(Metric metric, MetricStream stream, string existingFamily)
    {
        if (_reported.Add("conflict\n" + metric.MeterName + "\n" + metric.Name))
        {
            LogConflictingFamily(Logger, metric.Name, metric.MeterName, stream.FamilyName, stream.Type!, existingFamily);
        }
    }

    private static MetricStream Describe(Metric metric)
    {
        var type = metric.MetricType switch
        {
            MetricType.LongSum or MetricType.DoubleSum => Counter,
            MetricType.LongSumNonMonotonic or MetricType.DoubleSumNonMonotonic => Gauge,
            MetricType.LongGauge or MetricType.DoubleGauge => Gauge,
            MetricType.Histogram => Histogram,
            // Exponential histograms have no representation in the 0.0.4 text format.
            _ => null,
        };

        var name = PrometheusNames.MetricName(metric.Name, metric.Unit, type == Counter);
        string[] sampleNames = type == Histogram ? [name + "_bucket", name + "_sum", name + "_count"] : [name];
        // Every family gets a HELP line; without a description the instrument's own name is the most useful text.
        var help = string.IsNullOrEmpty(metric.Description) ? metric.Name : metric.Description;
        return new MetricStream(name, type, help, sampleNames);
    }

    private void WriteTargetInfo(ArrayBufferWriter<byte> output, Resource resource)
    {
        output.Write("# HELP target_info Target metadata\n# TYPE target_info gauge\ntarget_info{"u8);
        _labels.Clear();
        foreach (var attribute in resource.Attributes)
        {
            _labels.Add(new Label(LabelName(attribute.Key, isHistogram: false), attribute.Key, attribute.Value));
        }

        WriteLabels(output, _labels, leadingComma: false);
        output.Write("} 1\n"u8);
    }

    private void WriteFamily(ArrayBufferWriter<byte> output, Family family)
    {
        output.Write("# HELP "u8);
        output.Write(family.Name);
        output.Write(" "u8);
        output.WriteHelp(family.Help);
        output.Write("\n# TYPE "u8);
        output.Write(family.Name);
        output.Write(" "u8);
        output.Write(family.Type);
        output.Write("\n"u8);

        foreach (var metric in family.Metrics)
        {
            var isHistogram = family.Type == Histogram;
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                FormatLabels(metric, point, isHistogram);
                if (isHistogram)
                {
                    WriteHistogram(output, family.Name, point);
                    continue;
                }

                output.Write(family.Name);
                output.Write("{"u8);
                output.Write(_labelText.WrittenSpan);
                output.Write("} "u8);
                switch (metric.MetricType)
                {
                    case MetricType.LongSum or MetricType.LongSumNonMonotonic:
                        output.WriteLong(point.GetSumLong());
                        break;
                    case MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic:
                        output.WriteDouble(point.GetSumDouble());
                        break;
                    case MetricType.LongGauge:
                        output.WriteLong(point.GetGaugeLastValueLong());
                        break;
                    default:
                        output.WriteDouble(point.GetGaugeLastValueDouble());
                        break;
                }

                output.Write("\n"u8);
            }
        }
    }

    private void WriteHistogram(ArrayBufferWriter<byte> output, string name, in MetricPoint point)
    {
        long cumulative = 0;
        var wroteInfinity = false;
        foreach (var bucket in point.GetHistogramBuckets())
        {
            cumulative += bucket.BucketCount;
            WriteBucket(output, name, bucket.ExplicitBound, cumulative);
            wroteInfinity = double.IsPositiveInfinity(bucket.ExplicitBound);
        }

        var count = point.GetHistogramCount();
        if (!wroteInfinity)
        {
            WriteBucket(output, name, double.PositiveInfinity, count);
        }

        output.Write(name);
        output.Write("_sum{"u8);
        output.Write(_labelText.WrittenSpan);
        output.Write("} "u8);
        output.WriteDouble(point.GetHistogramSum());
        output.Write("\n"u8);

        output.Write(name);
        output.Write("_count{"u8);
        output.Write(_labelText.WrittenSpan);
        output.Write("} "u8);
        output.WriteLong(count);
        output.Write("\n"u8);
    }

    private void WriteBucket(ArrayBufferWriter<byte> output, string name, double bound, long cumulative)
    {
        output.Write(name);
        output.Write("_bucket{"u8);
        output.Write(_labelText.WrittenSpan);
        output.Write(",le=\""u8);
        output.WriteDouble(bound);
        output.Write("\"} "u8);
        output.WriteLong(cumulative);
        output.Write("\n"u8);
    }

    /// <summary>The point's labels (scope first, then its tags), without braces, into <see cref="_labelText"/>.</summary>
    private void FormatLabels(Metric metric, in MetricPoint point, bool isHistogram)
    {
        _labelText.ResetWrittenCount();
        _labelText.Write(ScopeName);
        _labelText.Write("=\""u8);
        _labelText.WriteLabelValue(metric.MeterName);
        _labelText.Write("\""u8);
        if (!string.IsNullOrEmpty(metric.MeterVersion))
        {
            _labelText.Write(",otel_scope_version=\""u8);
            _labelText.WriteLabelValue(metric.MeterVersion);
            _labelText.Write("\""u8);
        }

        _labels.Clear();
        foreach (var tag in point.Tags)
        {
            _labels.Add(new Label(LabelName(tag.Key, isHistogram), tag.Key, tag.Value));
        }

        WriteLabels(_labelText, _labels, leadingComma: true);
    }

    /// <summary>
    /// Writes <c>name="value"</c> pairs; keys that sanitize to the same label name are merged into one
    /// label whose values are joined with <c>;</c> in the order of their original keys, as the
    /// compatibility specification asks, so that no sample ever has a label twice.
    /// </summary>
    private static void WriteLabels(ArrayBufferWriter<byte> output, List<Label> labels, bool leadingComma)
    {
        labels.Sort(static (a, b) =>
        {
            var byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.Key, b.Key);
        });

        var first = !leadingComma;
        for (var i = 0; i < labels.Count; i++)
        {
            var label = labels[i];
            if (i > 0 && labels[i - 1].Name == label.Name)
            {
                output.Write(";"u8);
            }
            else
            {
                if (i > 0)
                {
                    output.Write("\""u8);
                }

                if (!first)
                {
                    output.Write(","u8);
                }

                first = false;
                output.Write(label.Name);
                output.Write("=\""u8);
            }

            output.WriteLabelValue(PrometheusText.FormatAttribute(label.Value));
        }

        if (labels.Count > 0)
        {
            output.Write("\""u8);
        }
    }

    private string LabelName(string key, bool isHistogram)
    {
        if (!_labelNames.TryGetValue(key, out var name))
        {
            name = PrometheusNames.LabelName(key);
            if (_labelNames.Count < MaxCachedLabelNames)
            {
                _labelNames[key] = name;
            }
        }

        // Labels the exposition itself writes win; the tag is kept under Prometheus' own prefix for clashes.
        return name is ScopeName or ScopeVersion || (isHistogram && name == "le") ? "exported_" + name : name;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Metric {Instrument} of meter {Meter} is left out of /metrics: its type {MetricType} has no Prometheus text representation")]
    private static partial void LogUnsupportedMetric(ILogger logger, string instrument, string meter, MetricType metricType);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Metric {Instrument} of meter {Meter} is left out of /metrics: as {Type} family {Family} it clashes with family {ExistingFamily}")]
    private static partial void LogConflictingFamily(ILogger logger, string instrument, string meter, string family, string type, string existingFamily);

    private sealed record MetricStream(string FamilyName, string? Type, string Help, string[] SampleNames);

    private sealed record Family(string Name, string Type, string Help, List<Metric> Metrics);

    private readonly record struct Label(string Name, string Key, object? Value);
}
