using Microsoft.Extensions.Options;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.Alerting.Signals;

/// <summary>
/// Loads the compliance events and provider health states kept in Postgres into this replica's
/// <see cref="SignalStore"/>: all within the windows at start (until then the compliance counts have no value), then
/// every <see cref="SignalOptions.DurableRefreshInterval"/> those stored since, which includes the ones another replica
/// took from the shared queue.
/// </summary>
public sealed partial class SignalEventsRefresher(
    SignalStore store,
    SignalEventLog log,
    MigrationRunner migrations,
    IOptions<SignalOptions> options,
    TimeProvider time,
    ILogger<SignalEventsRefresher> logger) : BackgroundService
{
    // received_at is Postgres's clock when the row was written; a row committed a little after a later one was must
    // still be read.
    private static readonly TimeSpan Overlap = TimeSpan.FromMinutes(1);

    private readonly SignalOptions _options = options.Value;
    private DateTimeOffset? _lastReceivedAt;
    private bool _failing;

    /// <summary>Loads what was stored since the last refresh (everything in the windows the first time).</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var longest = SignalNames.Counted.Max(_options.WindowOf);
        var (events, lastReceivedAt) = await log.LoadAsync(time.GetUtcNow() - longest, _lastReceivedAt - Overlap, cancellationToken);
        store.Restore(events);
        if (lastReceivedAt is { } received && (_lastReceivedAt is null || received > _lastReceivedAt))
        {
            _lastReceivedAt = received;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await migrations.Completion.WaitAsync(stoppingToken);
            while (true)
            {
                try
                {
                    await RefreshAsync(stoppingToken);
                    if (_failing)
                    {
                        _failing = false;
                        LogRecovered(logger);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    if (!_failing)
                    {
                        _failing = true;
                        LogRefreshFailed(logger, ex.GetType().Name, ex.Message);
                    }
                }

                await Task.Delay(_options.DurableRefreshInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Compliance and provider-health signal events could not be loaded ({Error}: {Message}); retrying")]
    private static partial void LogRefreshFailed(ILogger logger, string error, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Compliance and provider-health signal events are loaded again")]
    private static partial void LogRecovered(ILogger logger);
}
