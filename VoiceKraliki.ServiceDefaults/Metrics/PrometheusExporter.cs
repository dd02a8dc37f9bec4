using System.Buffers;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace VoiceKraliki.ServiceDefaults.Metrics;

/// <summary>
/// A pull exporter: it writes a batch only while <see cref="PrometheusExposition"/> is collecting for
/// a scrape, into a buffer the scrape then copies. Being pull-only, it is not exported to by a
/// provider's <c>ForceFlush</c> or its shutdown; any export outside a scrape is dropped.
/// </summary>
[ExportModes(ExportModes.Pull)]
public sealed partial class PrometheusExporter : BaseExporter<Metric>, IPullMetricExporter
{
    private readonly Lock _sync = new();
    private readonly ArrayBufferWriter<byte> _buffer = new(16 * 1024);
    private readonly PrometheusSerializer _serializer = new();
    private bool _capturing;
    private bool _captured;
    private Func<int, bool>? _collect;

    internal PrometheusExporter()
    {
    }

    /// <summary>
    /// Set by the reader: with a pull-only exporter, the SDK collects only when called through this
    /// delegate (the reader's own <c>Collect</c> refuses outside it).
    /// </summary>
    Func<int, bool>? IPullMetricExporter.Collect
    {
        get => _collect;
        set => _collect = value;
    }

    internal ILogger Logger
    {
        get => _serializer.Logger;
        set => _serializer.Logger = value;
    }

    public override ExportResult Export(in Batch<Metric> batch)
    {
        // The batch is only valid during this call, so it is serialized here, under the lock that
        // keeps a late export (one that outlived a timed-out scrape) from writing into the next.
        lock (_sync)
        {
            if (!_capturing)
            {
                return ExportResult.Success;
            }

            _buffer.ResetWrittenCount();
            _captured = false;
            try
            {
                _serializer.Write(_buffer, batch, ParentProvider?.GetResource());
                _captured = true;
                return ExportResult.Success;
            }
            catch (Exception exception)
            {
                LogSerializationFailed(_serializer.Logger, exception);
                return ExportResult.Failure;
            }
        }
    }

    /// <summary>
    /// Makes the reader collect, and returns what this exporter wrote for that collection, or null
    /// if there is no reader (not attached, or disposed) or the collection failed or timed out.
    /// </summary>
    internal byte[]? Capture(int timeoutMilliseconds)
    {
        var collect = _collect;
        if (collect is null || ParentProvider is null)
        {
            return null;
        }

        lock (_sync)
        {
            _buffer.ResetWrittenCount();
            _captured = false;
            _capturing = true;
        }

        bool collected;
        try
        {
            collected = collect(timeoutMilliseconds);
        }
        finally
        {
            lock (_sync)
            {
                _capturing = false;
            }
        }

        lock (_sync)
        {
            return collected && _captured ? _buffer.WrittenSpan.ToArray() : null;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Serializing metrics for /metrics failed")]
    private static partial void LogSerializationFailed(ILogger logger, Exception exception);
}
