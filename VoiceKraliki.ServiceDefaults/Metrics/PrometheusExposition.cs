using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry.Metrics;

namespace VoiceKraliki.ServiceDefaults.Metrics;

/// <summary>
/// The service's metrics in Prometheus text exposition format 0.0.4, collected when scraped.
/// One instance per process (a DI singleton), attached to one MeterProvider with
/// <see cref="PrometheusExpositionExtensions.AddPrometheusExposition"/>.
/// </summary>
/// <remarks>
/// A scrape makes the reader collect (cumulative temporality, observable instruments are called
/// then) and the exporter serialize that batch. Scrapes run one at a time; a scrape that had to wait
/// for another takes the result of any scrape that <em>began</em> after it arrived, so concurrent
/// scrapers share one collection without ever being handed data older than their request.
/// </remarks>
public sealed partial class PrometheusExposition
{
    /// <summary>The media type of the text exposition format this class writes.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly PrometheusExporter _exporter = new();
    private long _started;
    private Snapshot? _latest;
    private int _attached;
    private ILogger _logger = NullLogger.Instance;

    public PrometheusExposition()
    {
        Reader = new BaseExportingMetricReader(_exporter)
        {
            TemporalityPreference = MetricReaderTemporalityPreference.Cumulative,
        };
    }

    /// <summary>How long a scrape waits for the SDK to collect (observable callbacks included).</summary>
    public TimeSpan CollectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    internal MetricReader Reader { get; }

    /// <summary>
    /// Collects now and writes the exposition (UTF-8, <see cref="ContentType"/>) to
    /// <paramref name="output"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// The exposition is not attached to a MeterProvider, the provider is disposed, or collection
    /// timed out.
    /// </exception>
    public async Task WriteAsync(Stream output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        var body = await TryScrapeAsync(ct).ConfigureAwait(false) ?? throw CollectionFailed();
        await output.WriteAsync(body, ct).ConfigureAwait(false);
    }

    /// <summary>Collects now and returns the exposition as a string (tests, diagnostics).</summary>
    /// <exception cref="InvalidOperationException">As for <see cref="WriteAsync"/>.</exception>
    public string Scrape()
    {
        var arrived = Interlocked.Read(ref _started);
        _gate.Wait();
        try
        {
            var body = ScrapeLocked(arrived) ?? throw CollectionFailed();
            return Encoding.UTF8.GetString(body);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The exposition bytes, or null (logged) when the SDK could not collect.</summary>
    internal async Task<byte[]?> TryScrapeAsync(CancellationToken ct)
    {
        var arrived = Interlocked.Read(ref _started);
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            return ScrapeLocked(arrived);
        }
        finally
        {
            _gate.Release();
        }
    }

    private byte[]? ScrapeLocked(long arrived)
    {
        var latest = _latest;
        if (latest is not null && latest.Generation > arrived)
        {
            return latest.Body;
        }

        var generation = Interlocked.Increment(ref _started);
        var body = _exporter.Capture((int)Math.Min(CollectTimeout.TotalMilliseconds, int.MaxValue));
        if (body is null)
        {
            LogCollectionFailed(_logger, CollectTimeout);
            return null;
        }

        _latest = new Snapshot(generation, body);
        return body;
    }

    /// <summary>Marks the reader as taken: a MetricReader belongs to exactly one MeterProvider.</summary>
    internal void Attach()
    {
        if (Interlocked.Exchange(ref _attached, 1) != 0)
        {
            throw new InvalidOperationException("This PrometheusExposition is already attached to a MeterProvider; create one exposition per provider.");
        }
    }

    /// <summary>Logging becomes available only once the host is built, after the exposition exists.</summary>
    internal void UseLogger(ILoggerFactory loggerFactory)
    {
        _logger = loggerFactory.CreateLogger<PrometheusExposition>();
        _exporter.Logger = _logger;
    }

    private static InvalidOperationException CollectionFailed() =>
        new("Metrics could not be collected: the exposition is not attached to a live MeterProvider, or collection timed out.");

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Metrics collection for /metrics failed (no live MeterProvider, or it took longer than {Timeout})")]
    private static partial void LogCollectionFailed(ILogger logger, TimeSpan timeout);

    private sealed record Snapshot(long Generation, byte[] Body);
}
