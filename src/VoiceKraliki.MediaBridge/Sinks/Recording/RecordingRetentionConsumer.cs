using MassTransit;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Sinks.Recording;

/// <summary>
/// Deletes recordings whose retention ended: <c>DataCategory</c> <c>recording</c>, <c>ResourceId</c> the provider
/// call id (every stream recording of that call) or one recording id. Other categories belong to other services and
/// are ignored. Deleting what is already gone does nothing, so a redelivery is harmless. Nothing is published: the
/// contracts have no per-service answer to a retention event.
/// </summary>
public sealed partial class RecordingRetentionConsumer(RecordingStore store, ILogger<RecordingRetentionConsumer> logger)
    : IConsumer<RetentionExpired>
{
    public const string DataCategory = "recording";

    public async Task Consume(ConsumeContext<RetentionExpired> context)
    {
        var e = context.Message;
        if (!string.Equals(e.DataCategory, DataCategory, StringComparison.OrdinalIgnoreCase))
        {
            return;
        }

        if (string.IsNullOrWhiteSpace(e.ResourceId))
        {
            LogNoResource(logger, e.EventId);
            return;
        }

        var deleted = await store.DeleteByCallOrRecordingIdAsync(e.ResourceId, context.CancellationToken);
        LogDeleted(logger, e.EventId, e.ResourceId, deleted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention of recording {ResourceId} expired (event {EventId}): {Deleted} recording(s) deleted")]
    private static partial void LogDeleted(ILogger logger, Guid eventId, string resourceId, int deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RetentionExpired {EventId} for recordings names no resource; nothing deleted")]
    private static partial void LogNoResource(ILogger logger, Guid eventId);
}
