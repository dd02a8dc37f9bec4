using VoiceKraliki.Alerting.Notifications.Channels;

namespace VoiceKraliki.Alerting.Notifications;

/// <summary>The dispatcher's delivery through the channels' own retrying, rate-limited <see cref="ChannelDelivery"/>.</summary>
public sealed class ChannelNotificationDelivery(ChannelDelivery delivery) : INotificationDelivery
{
    public async Task<(DeliveryResult Result, int Attempts)> DeliverAsync(ChannelConfig channel, Notification notification, CancellationToken cancellationToken)
    {
        var report = await delivery.DeliverAsync(channel, notification, cancellationToken);
        var last = report.Attempts.Count > 0 ? report.Attempts[^1] : null;
        // A delivery skipped because the channel does not want resolutions counts as delivered: nothing is owed.
        var outcome = report.Skipped ? DeliveryOutcome.Delivered : report.Outcome;
        return (new DeliveryResult(outcome, last?.StatusCode, last?.RetryAfter, report.Error ?? last?.Error), report.Attempts.Count);
    }
}
