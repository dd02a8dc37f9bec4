using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.CallState.Events;

/// <summary>
/// Publishes the outbox. Each pass locks a batch of unpublished rows, oldest first, with
/// <c>FOR UPDATE SKIP LOCKED</c> (so replicas share the work and never publish the same row at the same
/// time), publishes them one by one in order (publisher confirms: a publish returns once the broker has the
/// message), and marks them published in the same transaction. A failed publish is counted on its row and
/// retried with backoff, forever: a row is never dropped. Delivery is at least once (a crash between the
/// broker's confirm and the commit republishes); the event id, which is also the message id, lets
/// consumers de-duplicate.
/// </summary>
public sealed partial class OutboxRelay(
    IDbContextFactory<CallStateDbContext> contexts,
    IBus bus,
    OutboxSignal signal,
    MigrationRunner migrations,
    IOptions<OutboxOptions> options,
    TimeProvider timeProvider,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    private const int MaxErrorLength = 2000;

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        try
        {
            await migrations.Completion.WaitAsync(stoppingToken);
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
    internal async Task<BatchResult> PublishBatchAsync(OutboxOptions settings, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = timeProvider.GetUtcNow();
        var rows = await db.OutboxMessages
            .FromSql(
                $"""
                 SELECT * FROM outbox_messages
                 WHERE published_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= {now})
                 ORDER BY created_at, id
                 LIMIT {settings.BatchSize}
                 FOR UPDATE SKIP LOCKED
                 """)
            .AsTracking()
            .ToListAsync(cancellationToken);
        if (rows.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return new BatchResult(0, Failed: false);
        }

        var published = 0;
        var failed = false;
        foreach (var row in rows)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                // Stopping: the rest stays for the next start or another replica.
                break;
            }

            try
            {
                await PublishAsync(row, settings.PublishTimeout);
                row.PublishedAt = timeProvider.GetUtcNow();
                row.LastError = null;
                row.NextAttemptAt = null;
                published++;
            }
            catch (Exception ex)
            {
                row.Attempts++;
                row.LastError = Describe(ex);
                row.NextAttemptAt = timeProvider.GetUtcNow() + Backoff(row.Attempts, settings.MaxBackoff);
                LogPublishFailed(logger, row.Id, row.Type, row.Attempts, row.LastError);
                // The broker is most likely down: the rest of the batch would only wait out its timeouts.
                failed = true;
                break;
            }
        }

        // Marked even while stopping, so that what the broker confirmed is not published again.
        await db.SaveChangesAsync(CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
        if (published > 0)
        {
            LogPublished(logger, published);
        }

        return new BatchResult(published, failed);
    }

    /// <summary>
    /// Not cancelled by stopping, only by its timeout: a publish under way finishes and is marked, rather than
    /// being abandoned when the broker may already have it (the bus stops after this relay).
    /// </summary>
    private async Task PublishAsync(OutboxMessage row, TimeSpan timeout)
    {
        var (message, type) = OutboxMessageTypes.Read(row);
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

    internal readonly record struct BatchResult(int Published, bool Failed);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published {Count} outbox messages")]
    private static partial void LogPublished(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox message {MessageId} ({Type}) not published (attempt {Attempts}): {Error}; retrying with backoff")]
    private static partial void LogPublishFailed(ILogger logger, Guid messageId, string type, int attempts, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox pass failed; retrying with backoff")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
