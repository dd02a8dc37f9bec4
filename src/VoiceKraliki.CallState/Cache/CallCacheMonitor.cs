using System.Data.Common;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using VoiceKraliki.CallState.Metrics;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.CallState.Cache;

/// <summary>
/// PINGs Redis every <see cref="CallCacheOptions.ProbeInterval"/>. When it answers and the fast tier is stale (at
/// start, after an outage, after any failed or skipped write, or when Redis lost its data) it rebuilds the fast tier
/// from Postgres, so that after an outage the live calls are right again without a restart. Each probe also
/// counts the live calls for <c>telephony_calls_active</c> (from Redis, or from Postgres while Redis is stale).
/// </summary>
public sealed partial class CallCacheMonitor(
    CallCache cache,
    CallQueries queries,
    CallMetrics metrics,
    MigrationRunner migrations,
    IOptions<CallCacheOptions> options,
    TimeProvider timeProvider,
    ILogger<CallCacheMonitor> logger) : BackgroundService
{
    private bool _countFailing;
    private bool _rebuildFailing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.ProbeInterval;
        try
        {
            await migrations.Completion.WaitAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await CheckAsync(stoppingToken);
                await Task.Delay(interval, timeProvider, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>One probe: rebuild if needed, then count the live calls.</summary>
    internal async Task CheckAsync(CancellationToken cancellationToken)
    {
        IReadOnlyDictionary<TelephonyProvider, long>? live = null;
        var operation = "PING";
        try
        {
            var probe = await cache.ProbeAsync(cancellationToken);
            cache.ReportReachable();
            if (!cache.IsServing || !probe.Rebuilt)
            {
                operation = "rebuild";
                var started = Stopwatch.GetTimestamp();
                var count = await cache.RebuildAsync(cancellationToken);
                LogRebuilt(logger, count, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                _rebuildFailing = false;
                operation = "PING";
                probe = await cache.ProbeAsync(cancellationToken);
            }

            live = cache.IsServing ? probe.LiveCalls : null;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && IsDatabaseFailure(ex))
        {
            // Postgres, not Redis, failed the rebuild: Redis stays stale and the next probe tries again.
            if (!_rebuildFailing)
            {
                LogRebuildFailed(logger, ex);
            }

            _rebuildFailing = true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            cache.ReportFailure(operation, ex);
        }

        if (live is null)
        {
            try
            {
                live = await queries.LiveCountsAsync(cancellationToken);
                _countFailing = false;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                if (!_countFailing)
                {
                    LogCountFailed(logger, ex);
                }

                _countFailing = true;
            }
        }

        if (live is not null)
        {
            metrics.SetLiveCalls(live);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis fast tier rebuilt from Postgres: {LiveCalls} live calls in {ElapsedMs:F0} ms")]
    private static partial void LogRebuilt(ILogger logger, int liveCalls, double elapsedMs);

    private static bool IsDatabaseFailure(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is DbException)
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rebuilding the Redis fast tier failed reading Postgres; calls are served from Postgres and the next probe tries again")]
    private static partial void LogRebuildFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Counting live calls in Postgres failed; telephony_calls_active keeps its last value")]
    private static partial void LogCountFailed(ILogger logger, Exception exception);
}
