using MassTransit;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.ServiceDefaults.Messaging.Outbox;

/// <summary>
/// Publishes the outbox. Each pass locks a batch of unpublished rows, oldest first, with
/// <c>FOR UPDATE SKIP LOCKED</c> (so replicas share the work and never publish the same row at the same
/// time), publishes them one by one in order (publisher confirms: a publish returns once the broker has the
/// message), and marks them published in the same transaction. A failed publish is counted on its row and
/// retried with backoff, forever: a row is never dropped. Delivery is at least once (a crash between the
/// broker's confirm and the commit republishes); the event id, which is also the message id, lets
/// consumers de-duplicate. Before its first pass it waits for the service's migrations, when it has any.
/// </summary>
public sealed partial class OutboxRelay(
    NpgsqlDataSource dataSource,
    IBus bus,
    OutboxEventTypes types,
    OutboxSignal signal,
    IOptions<OutboxOptions> options,
    TimeProvider timeProvider,
    ILogger<OutboxRelay> logger,
    MigrationRunner? migrations = null) : BackgroundService
{
    private const int MaxErrorLength = 2000;

    private const string SelectDue =
        """
        SELECT id, type, payload, created_at, attempts FROM outbox_messages
        WHERE published_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
        ORDER BY created_at, id
        LIMIT $2
        FOR UPDATE SKIP LOCKED
        """;

    private const string MarkPublished =
        """
        UPDATE outbox_messages AS o
        SET published_at = p.published_at, last_error = NULL, next_attempt_at = NULL
        FROM unnest($1::uuid[], $2::timestamptz[]) AS p (id, published_at)
        WHERE o.id = p.id
        """;

    private const string MarkFailed =
        "UPDATE outbox_messages SET attempts = $2, last_error = $3, next_attempt_at = $4 WHERE id = $1";

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        try
        {
            if (migrations is not null)
            {
                await migrations.Completion.WaitAsync(stoppingToken);
            }

            var failures = 0;
            while (!stoppingToken.IsCancellationRequested)
            {
                BatchResult batch;
                try
                {
                    batch = await PublishBatchAsync(settings, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The database is unreachable, most likely; nothing was marked, so nothing is lost.
                    LogPassFailed(logger, ex);
                    batch = new BatchResult(0, Failed: true);
                }

                if (batch.Failed)
                {
                    failures++;
                    await Task.Delay(Backoff(failures, settings.MaxBackoff), timeProvider, stoppingToken);
                    continue;
                }

                failures = 0;
                if (batch.Published < settings.BatchSize)
                {
                    await signal.WaitAsync(settings.PollInterval, timeProvider, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping; unpublished rows stay for the next start or another replica.
        }
    }

    /// <summary>One pass over at most a batch of due rows.</summary>
    private async Task<BatchResult> PublishBatchAsync(OutboxOptions settings, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var rows = await LockDueAsync(connection, transaction, settings.BatchSize, cancellationToken);
        if (rows.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return new BatchResult(0, Failed: false);
        }

        var publishedIds = new List<Guid>(rows.Count);
        var publishedAt = new List<DateTimeOffset>(rows.Count);
        Failure? failure = null;
        foreach (var (row, attempts) in rows)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                // Stopping: the rest stays for the next start or another replica.
                break;
            }

            try
            {
                await PublishAsync(row, settings.PublishTimeout);
                publishedIds.Add(row.Id);
                publishedAt.Add(timeProvider.GetUtcNow());
            }
            catch (Exception ex)
            {
                failure = new Failure(row.Id, attempts + 1, Describe(ex), timeProvider.GetUtcNow() + Backoff(attempts + 1, settings.MaxBackoff));
                LogPublishFailed(logger, row.Id, row.Type, failure.Attempts, failure.Error);
                // The broker is most likely down: the rest of the batch would only wait out its timeouts.
                break;
            }
        }

        // Marked even while stopping, so that what the broker confirmed is not published again.
        await MarkAsync(connection, transaction, publishedIds, publishedAt, failure);
        await transaction.CommitAsync(CancellationToken.None);
        if (publishedIds.Count > 0)
        {
            LogPublished(logger, publishedIds.Count);
        }

        return new BatchResult(publishedIds.Count, failure is not null);
    }

    private async Task<List<(OutboxMessageRow Row, int Attempts)>> LockDueAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, int batchSize, CancellationToken cancellationToken)
    {
        await using var select = new NpgsqlCommand(SelectDue, connection, transaction);
        select.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = timeProvider.GetUtcNow() });
        select.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchSize });
        var rows = new List<(OutboxMessageRow, int)>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var row = new OutboxMessageRow(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3));
            rows.Add((row, reader.GetInt32(4)));
        }

        return rows;
    }

    private static async Task MarkAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<Guid> publishedIds, List<DateTimeOffset> publishedAt, Failure? failure)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (publishedIds.Count > 0)
        {
            var published = new NpgsqlBatchCommand(MarkPublished);
            published.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. publishedIds] });
            published.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. publishedAt] });
            batch.BatchCommands.Add(published);
        }

        if (failure is not null)
        {
            var failed = new NpgsqlBatchCommand(MarkFailed);
            failed.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = failure.Id });
            failed.Parameters.Add(new NpgsqlParameter<int> { TypedValue = failure.Attempts });
            failed.Parameters.Add(new NpgsqlParameter<string> { TypedValue = failure.Error, NpgsqlDbType = NpgsqlDbType.Text });
            failed.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = failure.NextAttemptAt });
            batch.BatchCommands.Add(failed);
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// Not cancelled by stopping, only by its timeout: a publish under way finishes and is marked, rather than
    /// being abandoned when the broker may already have it (the bus stops after this relay).
    /// </summary>
    private async Task PublishAsync(OutboxMessageRow row, TimeSpan timeout)
    {
        var (message, type) = types.Read(row);
        using var deadline = new CancellationTokenSource(timeout, timeProvider);
        try
        {
            await bus.Publish(message, type, Pipe.Execute<PublishContext>(context => context.MessageId = row.Id), deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"The broker did not confirm within {timeout.TotalSeconds:0.###} s.");
        }
    }

    private static TimeSpan Backoff(int failures, TimeSpan max)
    {
        var exponential = FirstBackoff.Ticks << Math.Min(failures - 1, 20);
        var capped = Math.Min(exponential, max.Ticks);
        // Jitter keeps replicas that failed together from retrying together.
        return TimeSpan.FromTicks(capped / 2 + Random.Shared.NextInt64(capped / 2 + 1));
    }

    private static string Describe(Exception exception)
    {
        var text = $"{exception.GetType().Name}: {exception.Message}";
        return text.Length <= MaxErrorLength ? text : text[..MaxErrorLength];
    }

    private readonly record struct BatchResult(int Published, bool Failed);

    private sealed record Failure(Guid Id, int Attempts, string Error, DateTimeOffset NextAttemptAt);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published {Count} outbox messages")]
    private static partial void LogPublished(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox message {MessageId} ({Type}) not published (attempt {Attempts}): {Error}; retrying with backoff")]
    private static partial void LogPublishFailed(ILogger logger, Guid messageId, string type, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox pass failed; retrying with backoff")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
