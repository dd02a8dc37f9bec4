using MassTransit;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Events;

/// <summary>
/// Applies provider call events from webhook-ingress. A failure propagates: MassTransit retries the message
/// and then moves it to <c>call-event-received_error</c>; the inbox makes every redelivery harmless.
/// </summary>
public sealed partial class CallEventReceivedConsumer(CallEventProcessor processor, ILogger<CallEventReceivedConsumer> logger)
    : IConsumer<CallEventReceived>
{
    public async Task Consume(ConsumeContext<CallEventReceived> context)
    {
        var e = context.Message;
        try
        {
            await processor.ProcessAsync(e, context.CancellationToken);
        }
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested)
        {
            LogFailed(logger, e.EventId, e.Provider, e.ProviderCallId, e.EventType, context.GetRetryAttempt(), ex.GetType().Name, ex.Message);
            throw;
        }
    }

    // From/To and the raw fields are personal data and are never logged.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Event {EventId} ({EventType}) of {Provider} call {ProviderCallId} failed on retry {RetryAttempt} ({Error}: {Message}); MassTransit retries it, then moves it to the error queue")]
    private static partial void LogFailed(ILogger logger, Guid eventId, TelephonyProvider provider, string providerCallId, string eventType, int retryAttempt, string error, string message);
}
