using Microsoft.Extensions.Options;
using Npgsql;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.CallState.Metrics;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.CallState.Reconciliation;

/// <summary>
/// Finds live calls that have had no update for longer than their state's timeout (a lost hangup webhook, most
/// likely) every <see cref="ReconciliationOptions.Interval"/>. Each is flagged once per state it gets stuck in
/// (<see cref="StuckMarker"/> keys in <c>calls.metadata</c>), logged, counted in <c>telephony_calls_stuck_total</c>
/// and handed to the <see cref="IProviderCallReconciler"/> of its provider, if one is registered (none is yet).
/// Flagging locks with <c>SKIP LOCKED</c>, so replicas share the work and a call being updated is left to the next pass.
/// </summary>
public sealed partial class StuckCallDetector(
    NpgsqlDataSource dataSource,
    IEnumerable<IProviderCallReconciler> reconcilers,
    CallCache cache,
    CallMetrics metrics,
    MigrationRunner migrations,
    IOptions<ReconciliationOptions> options,
    TimeProvider timeProvider,
    ILogger<StuckCallDetector> logger) : BackgroundService
{
    private const int BatchSize = 500;

    // The flag is current while stuck_status and stuck_updated_at match the row; a call that moved since its last
    // flag can be flagged again. Times go through jsonb as ISO 8601 with the offset, to the microsecond.
    private const string FlagSql = """
        WITH due AS (
            SELECT provider_call_id FROM calls
            WHERE ((status IN ('initiated', 'ringing') AND updated_at < $1)
                OR (status IN ('answered', 'on_hold', 'transferring') AND updated_at < $2))
              AND (metadata->>'stuck_status' IS DISTINCT FROM status
                OR (metadata->>'stuck_updated_at')::timestamptz IS DISTINCT FROM updated_at)
            ORDER BY updated_at
            LIMIT $3
            FOR UPDATE SKIP LOCKED)
        UPDATE calls AS c
        SET metadata = c.metadata || jsonb_build_object('stuck_since', $4::timestamptz, 'stuck_status', c.status, 'stuck_updated_at', c.updated_at)
        FROM due
        WHERE c.provider_call_id = due.provider_call_id
        RETURNING c.provider_call_id, c.session_id, c.provider, c.status, c.updated_at
        """;

    private readonly Dictionary<TelephonyProvider, IProviderCallReconciler> _reconcilers =
        reconcilers.GroupBy(r => r.Provider).ToDictionary(g => g.Key, g => g.Last());

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        try
        {
            await migrations.Completion.WaitAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await DetectAsync(settings, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    LogPassFailed(logger, ex);
                }

                await Task.Delay(settings.Interval, timeProvider, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>One pass: flags every call due now, then reports them. Returns what it flagged.</summary>
    internal async Task<IReadOnlyList<StuckCall>> DetectAsync(ReconciliationOptions settings, CancellationToken cancellationToken)
    {
        var flagged = new List<StuckCall>();
        List<StuckCall> batch;
        do
        {
            batch = await FlagAsync(settings, cancellationToken);
            flagged.AddRange(batch);
            foreach (var call in batch)
            {
                await ReportAsync(call, settings, cancellationToken);
            }
        }
        while (batch.Count == BatchSize);

        if (flagged.Count > 0)
        {
            // The snapshots in Redis show the flag too.
            await cache.RefreshAsync([.. flagged.Select(c => c.ProviderCallId)], cancellationToken);
        }

        return flagged;
    }

    private async Task<List<StuckCall>> FlagAsync(ReconciliationOptions settings, CancellationToken cancellationToken)
    {
        // To the microsecond, as Postgres keeps it, so the StuckCall handed on says what the row says.
        var now = CallView.Utc(timeProvider.GetUtcNow());
        await using var command = dataSource.CreateCommand(FlagSql);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now - settings.RingingTimeout });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now - settings.AnsweredTimeout });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = BatchSize });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });

        var calls = new List<StuckCall>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            calls.Add(new StuckCall(
                ProviderCallId: reader.GetString(0),
                SessionId: await reader.IsDBNullAsync(1, cancellationToken) ? null : reader.GetString(1),
                Provider: DbEnum<TelephonyProvider>.FromDb(reader.GetString(2)),
                Status: DbEnum<CallStatus>.FromDb(reader.GetString(3)),
                UpdatedAt: reader.GetFieldValue<DateTimeOffset>(4),
                StuckSince: now));
        }

        return calls;
    }

    private async Task ReportAsync(StuckCall call, ReconciliationOptions settings, CancellationToken cancellationToken)
    {
        var timeout = call.Status is CallStatus.Initiated or CallStatus.Ringing ? settings.RingingTimeout : settings.AnsweredTimeout;
        LogStuck(logger, call.Provider, call.ProviderCallId, call.Status, call.UpdatedAt, timeout.TotalSeconds);
        metrics.CallStuck(call.Provider);

        if (!_reconcilers.TryGetValue(call.Provider, out var reconciler))
        {
            LogAwaitingAdapter(logger, call.Provider, call.ProviderCallId);
            return;
        }

        using var deadline = new CancellationTokenSource(settings.ProviderTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            await reconciler.ReconcileAsync(call, linked.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogReconcileFailed(logger, call.Provider, call.ProviderCallId, ex);
        }
    }

    // The provider call id is not personal data; the numbers are never logged.
    [LoggerMessage(Level = LogLevel.Warning, Message = "{Provider} call {ProviderCallId} is stuck in {Status}: no update since {UpdatedAt:O} (timeout {TimeoutSeconds} s)")]
    private static partial void LogStuck(ILogger logger, TelephonyProvider provider, string providerCallId, CallStatus status, DateTimeOffset updatedAt, double timeoutSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider} call {ProviderCallId} awaits a provider adapter: no IProviderCallReconciler is registered for its provider yet")]
    private static partial void LogAwaitingAdapter(ILogger logger, TelephonyProvider provider, string providerCallId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciling {Provider} call {ProviderCallId} with the provider failed")]
    private static partial void LogReconcileFailed(ILogger logger, TelephonyProvider provider, string providerCallId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stuck-call pass failed; the next one tries again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
