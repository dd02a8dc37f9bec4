using MassTransit;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Sinks.Recording;

/// <summary>
/// Erases a data subject's recordings (GDPR Art. 17): every recording whose sidecar has the number as <c>from</c> or
/// <c>to</c>, including one still being made. Answers with <see cref="DataErasureCompleted"/> for service
/// <c>media-bridge</c>, category <c>recording</c>, even when there was nothing to erase. The answer's event id is
/// derived from the request id, so a redelivered request produces the same event and the receiver's inbox keeps one.
/// </summary>
public sealed partial class RecordingErasureConsumer(
    RecordingStore store,
    TimeProvider time,
    ILogger<RecordingErasureConsumer> logger) : IConsumer<DataErasureRequested>
{
    public const string ServiceName = "media-bridge";

    public async Task Consume(ConsumeContext<DataErasureRequested> context)
    {
        var e = context.Message;
        var erased = await store.DeleteByPhoneNumberAsync(e.PhoneNumber, context.CancellationToken);
        LogErased(logger, e.RequestId, erased);
        await context.Publish(
            new DataErasureCompleted(
                CompletionEventId(e.RequestId),
                time.GetUtcNow(),
                e.CorrelationId,
                e.RequestId,
                ServiceName,
                erased,
                [RecordingRetentionConsumer.DataCategory]),
            context.CancellationToken);
    }

    /// <summary>The same id for the same request, every time (a name-based UUID, RFC 9562 §5.8 layout).</summary>
    internal static Guid CompletionEventId(Guid requestId) => NameBasedGuid.Create($"{ServiceName}/data-erasure-completed/{requestId:D}");

    // The number is personal data: only the request id is logged.
    [LoggerMessage(Level = LogLevel.Information, Message = "Erasure request {RequestId}: {Erased} recording(s) deleted")]
    private static partial void LogErased(ILogger logger, Guid requestId, int erased);
}
