namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// A configured receiver endpoint: a Slack incoming webhook, a PagerDuty routing key, an email address, or a webhook
/// taking Alertmanager's payload. <see cref="Settings"/> are shown by the API; <see cref="Secrets"/> (webhook URLs,
/// routing keys, SMTP passwords) are write-only: never returned, never logged.
/// </summary>
/// <param name="Type"><see cref="ChannelTypes"/>.</param>
/// <param name="RatePerMinute">At most this many deliveries a minute to this channel; the rest wait their turn.</param>
public sealed record ChannelConfig(
    Guid Id,
    string Name,
    string Type,
    IReadOnlyDictionary<string, string> Settings,
    IReadOnlyDictionary<string, string> Secrets,
    int RatePerMinute,
    bool SendResolved = true);

public static class ChannelTypes
{
    public const string Slack = "slack";
    public const string PagerDuty = "pagerduty";
    public const string Email = "email";
    public const string Webhook = "webhook";

    public static readonly IReadOnlyList<string> All = [Slack, PagerDuty, Email, Webhook];
}

public enum DeliveryOutcome
{
    /// <summary>The receiver took it.</summary>
    Delivered,

    /// <summary>Try again later (429, 5xx, a timeout, a refused connection); <see cref="DeliveryResult.RetryAfter"/> if the receiver said when.</summary>
    Retry,

    /// <summary>Trying again cannot help (400, 401, 403, 404, a bad address): give up and record why.</summary>
    Failed,
}

/// <param name="RetryAfter">The receiver's own <c>Retry-After</c>, when it gave one.</param>
/// <param name="Error">What went wrong, without secrets (no URLs with tokens, no keys).</param>
public sealed record DeliveryResult(DeliveryOutcome Outcome, int? StatusCode = null, TimeSpan? RetryAfter = null, string? Error = null)
{
    public static DeliveryResult Delivered(int? statusCode = null) => new(DeliveryOutcome.Delivered, statusCode);
}

/// <summary>One kind of channel: turns a notification into the receiver's own request and sends it, once.</summary>
public interface INotificationChannel
{
    /// <summary>The <see cref="ChannelConfig.Type"/> this sends to.</summary>
    string Type { get; }

    /// <summary>
    /// The settings and secrets this type needs, each checked; returns the field that is wrong and why, or nothing
    /// when the configuration can be used. Used by the channels API before anything is stored.
    /// </summary>
    IReadOnlyDictionary<string, string> Validate(ChannelConfig config);

    /// <summary>Sends <paramref name="notification"/> once (no retries here) and says what happened.</summary>
    Task<DeliveryResult> SendAsync(ChannelConfig config, Notification notification, CancellationToken cancellationToken);
}
