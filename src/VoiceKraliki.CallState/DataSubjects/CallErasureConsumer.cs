using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;
using VoiceKraliki.ServiceDefaults.Redis;

namespace VoiceKraliki.CallState.DataSubjects;

/// <summary>
/// Erases a data subject's number from call-state (GDPR Art. 17) by anonymizing their calls (<see cref="CallAnonymizer"/>),
/// and answers with <see cref="DataErasureCompleted"/> for service <c>call-state</c>, category <c>call_metadata</c>,
/// even when nothing matched. A redelivery anonymizes nothing new and answers the same event (same id, same count).
/// A failure (Postgres, or a Redis snapshot not rewritten) propagates: MassTransit retries, then dead-letters.
/// </summary>
public sealed partial class CallErasureConsumer(
    NpgsqlDataSource dataSource,
    MigrationRunner migrations,
    CallCache cache,
    IRedisStore redis,
    IOptions<CallCacheOptions> cacheOptions,
    TimeProvider time,
    ILogger<CallErasureConsumer> logger) : IConsumer<DataErasureRequested>
{
    public const string DataCategory = "call_metadata";

    public async Task Consume(ConsumeContext<DataErasureRequested> context)
    {
        var e = context.Message;
        if (!SubjectNumber.IsE164(e.PhoneNumber))
        {
            // Stored numbers are E.164 (or SIP addresses of them): anything else cannot be matched safely.
            LogNotE164(logger, e.RequestId);
            throw new ArgumentException($"Erasure request {e.RequestId}: the phone number is not E.164.", nameof(context));
        }

        await migrations.Completion.WaitAsync(context.CancellationToken);
        var erased = await CallAnonymizer.AnonymizeAsync(dataSource, e.PhoneNumber, e.RequestId, context.CancellationToken);
        await CallAnonymizer.RefreshSnapshotsAsync(cache, redis, cacheOptions.Value, time, erased, e.PhoneNumber, context.CancellationToken);
        LogErased(logger, e.RequestId, erased.Count);

        await context.Publish(
            new DataErasureCompleted(
                SubjectNumber.CompletionEventId("data-erasure-completed", e.RequestId),
                time.GetUtcNow(),
                e.CorrelationId,
                e.RequestId,
                SubjectNumber.ServiceName,
                erased.Count,
                [DataCategory]),
            context.CancellationToken);
    }

    // The number is personal data: only the request id is logged.
    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure request {RequestId}: {Erased} call(s) anonymized")]
    private static partial void LogErased(ILogger logger, Guid requestId, int erased);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Erasure request {RequestId} names a number that is not E.164; it goes to the error queue")]
    private static partial void LogNotE164(ILogger logger, Guid requestId);
}
