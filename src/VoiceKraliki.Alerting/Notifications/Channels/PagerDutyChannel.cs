using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// PagerDuty Events API v2 (secret <c>routing_key</c>; settings <c>url</c>, default the public enqueue endpoint, and
/// <c>source</c>, default <c>voicekraliki</c>). One incident per group: the <c>dedup_key</c> is derived from the receiver
/// and the group key, so a later trigger updates the open incident, an acknowledge or resolve closes it. 202 is accepted;
/// 400 is a payload PagerDuty will never take; 429 (about 120 events a minute per key) and 5xx may pass.
/// </summary>
public sealed class PagerDutyChannel(IHttpClientFactory httpClients, TimeProvider time, ILogger<PagerDutyChannel> logger)
    : HttpNotificationChannel(httpClients, time, logger)
{
    public const string HttpClientName = "alerting-pagerduty";
    public const string RoutingKeySecret = "routing_key";
    public const string UrlSetting = "url";
    public const string SourceSetting = "source";
    public const string DefaultUrl = "https://events.pagerduty.com/v2/enqueue";
    public const string DefaultSource = "voicekraliki";

    private const int MaxSummary = 1024;

    // PagerDuty rejects an event over 512 KB; Alertmanager drops the custom details first, and so do we.
    private const int MaxEventBytes = 512_000;

    public override string Type => ChannelTypes.PagerDuty;

    protected override string ClientName => HttpClientName;

    public override IReadOnlyDictionary<string, string> Validate(ChannelConfig config)
    {
        var check = new ChannelConfigCheck(config, Type, [UrlSetting, SourceSetting], [RoutingKeySecret]);
        check.Token($"secrets.{RoutingKeySecret}", check.Secret(RoutingKeySecret), maxLength: 128);
        if (check.Setting(UrlSetting) is { } url)
        {
            check.HttpUrl($"settings.{UrlSetting}", url, required: true);
        }

        if (check.Setting(SourceSetting) is { } source && (source.Trim().Length == 0 || source.Length > 255 || source.Any(char.IsControl)))
        {
            check.Add($"settings.{SourceSetting}", "must be 1 to 255 characters without control characters.");
        }

        return check.Errors;
    }

    public override Task<DeliveryResult> SendAsync(ChannelConfig config, Notification notification, CancellationToken cancellationToken)
    {
        var key = config.Secrets.GetValueOrDefault(RoutingKeySecret);
        if (string.IsNullOrEmpty(key))
        {
            return Task.FromResult(new DeliveryResult(DeliveryOutcome.Failed, Error: "secrets.routing_key is missing."));
        }

        if (!ChannelUrls.TryParse(config.Settings.GetValueOrDefault(UrlSetting) ?? DefaultUrl, out var url))
        {
            return Task.FromResult(new DeliveryResult(DeliveryOutcome.Failed, Error: "settings.url is not an absolute http(s) URL."));
        }

        var source = config.Settings.GetValueOrDefault(SourceSetting) is { Length: > 0 } s ? s : DefaultSource;
        return PostJsonAsync(config, url, Payload(notification, key, source, Time.GetUtcNow()), cancellationToken);
    }

    /// <summary>
    /// The incident's key: hex SHA-256 of the receiver and the group key (64 characters, under PagerDuty's 255), so it is
    /// the same for every notification of the group and differs between receivers sharing a service.
    /// </summary>
    public static string DedupKey(Notification notification) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{notification.Receiver}\n{notification.GroupKey}")));

    /// <summary><c>trigger</c> while firing, <c>acknowledge</c> once every firing alert is acknowledged, <c>resolve</c> when all resolved.</summary>
    public static string EventAction(Notification notification)
    {
        var digest = AlertDigest.Of(notification);
        return !digest.IsFiring ? "resolve" : digest.AllFiringAcknowledged ? "acknowledge" : "trigger";
    }

    /// <summary>Our severities onto PagerDuty's: critical, high → error, medium → warning, low → info (unknown → error).</summary>
    public static string Severity(string severity) => severity switch
    {
        "critical" => "critical",
        "high" => "error",
        "medium" => "warning",
        "low" => "info",
        _ => "error",
    };

    internal static byte[] Payload(Notification notification, string routingKey, string source, DateTimeOffset now)
    {
        var digest = AlertDigest.Of(notification);
        var json = Write(notification, digest, routingKey, source, now, withDetails: true);
        return json.Length <= MaxEventBytes ? json : Write(notification, digest, routingKey, source, now, withDetails: false);
    }

    private static byte[] Write(Notification notification, AlertDigest digest, string routingKey, string source, DateTimeOffset now, bool withDetails) => WriteJson(json =>
    {
        json.WriteStartObject();
        json.WriteString("routing_key", routingKey);
        json.WriteString("event_action", EventAction(notification));
        json.WriteString("dedup_key", DedupKey(notification));

        json.WriteStartObject("payload");
        var summary = digest.Summary.Length > 0 ? $"{digest.Title}: {AlertDigest.OneLine(digest.Summary)}" : digest.Title;
        json.WriteString("summary", AlertDigest.Truncate(summary, MaxSummary));
        json.WriteString("source", source);
        json.WriteString("severity", Severity(digest.Severity));
        var relevant = digest.IsFiring ? digest.Firing : notification.Alerts;
        json.WriteString("timestamp", AlertDigest.Rfc3339(relevant.Count > 0 ? relevant.Min(a => a.StartsAt) : now));
        json.WriteString("class", digest.AlertName);
        if (digest.CommonLabels.TryGetValue(AlertSnapshot.ProviderLabel, out var provider))
        {
            json.WriteString("component", provider);
        }

        json.WriteStartObject("custom_details");
        if (withDetails)
        {
            json.WriteNumber("num_firing", digest.Firing.Count);
            json.WriteNumber("num_resolved", digest.Resolved.Count);
            json.WritePropertyName("group_labels");
            WriteMap(json, notification.GroupLabels);
            json.WriteStartArray("alerts");
            foreach (var alert in digest.Firing.Concat(digest.Resolved))
            {
                json.WriteStartObject();
                json.WriteString("status", alert.Status);
                json.WritePropertyName("labels");
                WriteMap(json, alert.Labels);
                json.WritePropertyName("annotations");
                WriteMap(json, alert.Annotations.OrderBy(a => a.Key, StringComparer.Ordinal));
                if (double.IsFinite(alert.Value))
                {
                    json.WriteNumber("value", alert.Value);
                }
                else
                {
                    json.WriteNull("value");
                }

                json.WriteString("starts_at", AlertDigest.Rfc3339(alert.StartsAt));
                if (alert.EndsAt is { } ended)
                {
                    json.WriteString("ends_at", AlertDigest.Rfc3339(ended));
                }

                if (alert.Acknowledgement is { } ack)
                {
                    json.WriteString("acknowledged_by", ack.By);
                    json.WriteString("acknowledged_at", AlertDigest.Rfc3339(ack.At));
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }
        else
        {
            json.WriteString("error", $"Custom details were removed because the event exceeds PagerDuty's {MaxEventBytes} bytes.");
        }

        json.WriteEndObject();
        json.WriteEndObject();

        json.WriteString("client", "VoiceKraliki alerting");
        if (notification.ExternalUrl is { } external && ChannelUrls.TryParse(external.AbsoluteUri, out var clientUrl))
        {
            json.WriteString("client_url", clientUrl.AbsoluteUri);
        }

        json.WriteStartArray("links");
        var runbooks = new[] { digest.RunbookUrl }.Concat(relevant.Select(a => AlertDigest.RunbookOf(a.Annotations)))
            .OfType<Uri>().Distinct().Take(5);
        foreach (var runbook in runbooks)
        {
            json.WriteStartObject();
            json.WriteString("href", runbook.AbsoluteUri);
            json.WriteString("text", "Runbook");
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    });

    private static void WriteMap(Utf8JsonWriter json, IEnumerable<KeyValuePair<string, string>> map)
    {
        json.WriteStartObject();
        foreach (var (key, value) in map)
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
    }
}
