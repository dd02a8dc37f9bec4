using MassTransit;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Sinks.Recording;

/// <summary>
/// Deletes recordings whose retention ended: <c>DataCategory</c> <c>recording</c>, <c>ResourceId</c> the provider
/// call id (every stream recording of that call) or one recording id, and answers with <see cref="RetentionEnforced"/>
/// for service <c>media-bridge</c>. Audio cannot be anonymized, so the action is always a deletion whatever the event
/// asks. Other categories belong to other services and are ignored, unanswered. Deleting what is already gone does
/// nothing, so a redelivery is answered again (same event id) with nothing deleted.
/// </summary>
public sealed partial class RecordingRetentionConsumer(
    RecordingStore store,
    TimeProvider time,
    ILogger<RecordingRetentionConsumer> logger) : IConsumer<RetentionExpired>
{
    public const string DataCategory = DataCategories.Recording;

    public async Task Consume(ConsumeContext<RetentionExpired> context)
    {
        var e = context.Message;
        if (!string.Equals(e.DataCategory, DataCategory, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(e.ResourceId))
        {
            // Nothing can be matched: the message goes to the error queue rather than being answered as done.
            LogNoResource(logger, e.EventId);
            throw new ArgumentException($"RetentionExpired {e.EventId} names no resource.", nameof(context));
        }

        var deleted = await store.DeleteByCallOrRecordingIdAsync(e.ResourceId, context.CancellationToken);
        LogDeleted(logger, e.EventId, e.ResourceId, deleted);
        await context.Publish(
            new RetentionEnforced(
                RetentionEnforced.IdFor(RecordingErasureConsumer.ServiceName, e.EventId),
                time.GetUtcNow(),
                e.CorrelationId,
                e.EventId,
                RecordingErasureConsumer.ServiceName,
                e.DataCategory,
                e.ResourceId,
                RetentionActions.Delete,
                deleted),
            context.CancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention of recording {ResourceId} expired (event {EventId}): {Deleted} recording(s) deleted")]
    private static partial void LogDeleted(ILogger logger, Guid eventId, string resourceId, int deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RetentionExpired {EventId} for recordings names no resource; it goes to the error queue")]
    private static partial void LogNoResource(ILogger logger, Guid eventId);
}
