using Microsoft.Extensions.Options;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.Alerting.Signals;

/// <summary>
/// Every minute (a few seconds after it ends), writes the previous minute's aggregate of every series from the samples
/// in memory to <c>signal_history</c> (see <see cref="SignalHistory"/> for why several replicas can all do so), and
/// minutes it could not write while Postgres was down, as far back as <see cref="SignalOptions.HistoryCatchUp"/> and
/// the samples in memory go. Once an hour it deletes history older than <see cref="SignalOptions.HistoryRetention"/>
/// and compliance events older than their windows.
/// </summary>
public sealed partial class SignalHistoryWriter(
    SignalStore store,
    SignalHistory history,
    SignalEventLog events,
    MigrationRunner migrations,
    IOptions<SignalOptions> options,
    TimeProvider time,
    ILogger<SignalHistoryWriter> logger) : BackgroundService
{
    // Samples of a minute may be appended just after it ends (an evaluation that started in it).
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PruneInterval = TimeSpan.FromHours(1);

    private readonly SignalOptions _options = options.Value;
    private DateTimeOffset? _writtenUntil;
    private DateTimeOffset _nextPrune = DateTimeOffset.MinValue;
    private bool _failing;

    /// <summary>Names this replica in <c>written_by</c>.</summary>
    public static string Instance { get; } = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>
    /// Writes every whole minute before the one <paramref name="now"/> is in that this writer has not written yet (the
    /// first time: those of the last <see cref="SignalOptions.HistoryCatchUp"/>).
    /// </summary>
    /// <returns>How many rows were inserted or replaced.</returns>
    public async Task<int> WriteAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var until = SignalHistory.MinuteOf(now);
        var earliest = until - _options.HistoryCatchUp;
        var from = _writtenUntil is { } done && done > earliest ? done : earliest;
        if (from >= until)
        {
            return 0;
        }

        var points = SignalHistory.Aggregate(store.Rings(), from, until);
        var written = await history.WriteAsync(points, Instance, cancellationToken);
        _writtenUntil = until;
        return written;
    }

    /// <summary>Deletes history and compliance events past what is kept.</summary>
    public async Task PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var minutes = await history.PruneAsync(now - _options.HistoryRetention, cancellationToken);
        // Compliance events are kept an hour past their window, so a replica that lags behind still finds them.
        var counted = SignalNames.Counted.Select(s => (s, now - _options.WindowOf(s) - TimeSpan.FromHours(1))).ToList();
        var deleted = await events.PruneAsync(counted, now - TimeSpan.FromDays(1), cancellationToken);
        LogPruned(logger, minutes, deleted);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await migrations.Completion.WaitAsync(stoppingToken);
            while (true)
            {
                var now = time.GetUtcNow();
                await Task.Delay(SignalHistory.MinuteOf(now) + TimeSpan.FromMinutes(1) + Grace - now, time, stoppingToken);
                now = time.GetUtcNow();
                try
                {
                    await WriteAsync(now, stoppingToken);
                    if (now >= _nextPrune)
                    {
                        await PruneAsync(now, stoppingToken);
                        _nextPrune = now + PruneInterval;
                    }

                    if (_failing)
                    {
                        _failing = false;
                        LogRecovered(logger);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The minutes stay in memory: the next run writes them too.
                    if (!_failing)
                    {
                        _failing = true;
                        LogWriteFailed(logger, ex.GetType().Name, ex.Message);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Signal history could not be written ({Error}: {Message}); retrying every minute")]
    private static partial void LogWriteFailed(ILogger logger, string error, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Signal history is written again")]
    private static partial void LogRecovered(ILogger logger);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pruned {Minutes} history minutes and {Events} signal events")]
    private static partial void LogPruned(ILogger logger, int minutes, int events);
}
