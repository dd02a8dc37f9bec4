using System.Data;
using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;
using VoiceKraliki.ServiceDefaults.Redis;

namespace VoiceKraliki.CallState.DataSubjects;

/// <summary>
/// Enforces retention on a call record (<see cref="DataCategories.CallMetadata"/>; other categories belong to other
/// services and get no answer from us): <c>delete</c> removes the call, its history and its published state changes
/// from Postgres and every key of it from Redis; <c>anonymize</c> masks both numbers and strips the personal metadata
/// (<see cref="CallAnonymizer.AnonymizeCallAsync"/>), then rewrites and checks the Redis snapshot. Then it answers
/// with <see cref="RetentionEnforced"/>, whose id is derived from the retention event's, so a redelivery does the
/// same again (nothing, by then) and answers the same event. A failure propagates: MassTransit retries, then
/// dead-letters; an unknown action is dead-lettered at once.
/// </summary>
public sealed partial class CallRetentionConsumer(
    NpgsqlDataSource dataSource,
    MigrationRunner migrations,
    CallCache cache,
    IRedisStore redis,
    IOptions<CallCacheOptions> cacheOptions,
    TimeProvider time,
    ILogger<CallRetentionConsumer> logger) : IConsumer<RetentionExpired>
{
    // call_transitions go with the call (ON DELETE CASCADE). The outbox keeps published CallStateChanged events, a
    // copy of the call's history, so they go too; numbers are in neither. A row the relay is publishing is locked:
    // the delete waits for it to be marked published. Migration 0003 indexes the outbox by call for this.
    private const string DeleteCallSql = "DELETE FROM calls WHERE provider_call_id = $1";
    private const string DeleteStateChangesSql = "DELETE FROM outbox_messages WHERE payload->>'providerCallId' = $1";

    public async Task Consume(ConsumeContext<RetentionExpired> context)
    {
        var e = context.Message;
        if (!string.Equals(e.DataCategory, DataCategories.CallMetadata, StringComparison.Ordinal))
        {
            LogNotOurs(logger, e.EventId, e.DataCategory);
            return;
        }

        if (e.Action is not (RetentionActions.Delete or RetentionActions.Anonymize) || string.IsNullOrEmpty(e.ResourceId))
        {
            LogInvalid(logger, e.EventId, e.SweepId, e.Action);
            throw new ArgumentException($"Retention event {e.EventId}: action '{e.Action}' on call '{e.ResourceId}' cannot be enforced.", nameof(context));
        }

        await migrations.Completion.WaitAsync(context.CancellationToken);
        int items;
        if (e.Action == RetentionActions.Delete)
        {
            items = await DeleteAsync(e.ResourceId, context.CancellationToken);
            LogDeleted(logger, e.EventId, e.SweepId, e.ResourceId, items);
        }
        else
        {
            var call = await CallAnonymizer.AnonymizeCallAsync(dataSource, e.ResourceId, e.SweepId, time.GetUtcNow(), context.CancellationToken);
            if (call is not null)
            {
                await CallAnonymizer.RefreshSnapshotAsync(cache, redis, cacheOptions.Value, time, call, context.CancellationToken);
            }

            items = call is null ? 0 : 1;
            LogAnonymized(logger, e.EventId, e.SweepId, e.ResourceId, items);
        }

        await context.Publish(
            new RetentionEnforced(
                RetentionEnforced.IdFor(SubjectNumber.ServiceName, e.EventId),
                time.GetUtcNow(),
                e.CorrelationId,
                e.EventId,
                SubjectNumber.ServiceName,
                e.DataCategory,
                e.ResourceId,
                e.Action,
                items),
            context.CancellationToken);
    }

    /// <summary>
    /// Deletes the call and forgets it in Redis before committing, so that a Redis failure rolls the delete back and
    /// the retry counts the call again. Returns the calls deleted (0 when it was gone already).
    /// </summary>
    private async Task<int> DeleteAsync(string providerCallId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        int deleted;
        await using (var delete = new NpgsqlCommand(DeleteCallSql, connection, transaction))
        {
            delete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = providerCallId });
            deleted = await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var delete = new NpgsqlCommand(DeleteStateChangesSql, connection, transaction))
        {
            delete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = providerCallId });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        // Until the commit the row stays locked: an event of this call waits, and cannot write Redis in between.
        await cache.ForgetAsync(providerCallId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    // The provider's call id is not personal data; the numbers are never logged.
    [LoggerMessage(Level = LogLevel.Debug, Message = "Retention event {EventId} is about {DataCategory}, not call metadata; ignored")]
    private static partial void LogNotOurs(ILogger logger, Guid eventId, string dataCategory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention event {EventId} (sweep {SweepId}) asks for action '{Action}' or names no call; it goes to the error queue")]
    private static partial void LogInvalid(ILogger logger, Guid eventId, Guid sweepId, string action);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention event {EventId} (sweep {SweepId}): call {ProviderCallId} deleted ({Deleted} row(s))")]
    private static partial void LogDeleted(ILogger logger, Guid eventId, Guid sweepId, string providerCallId, int deleted);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention event {EventId} (sweep {SweepId}): call {ProviderCallId} anonymized ({Anonymized} call(s))")]
    private static partial void LogAnonymized(ILogger logger, Guid eventId, Guid sweepId, string providerCallId, int anonymized);
}
