using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// Alertmanager's generic webhook (secret <c>url</c>; optional setting <c>max_alerts</c>, 0 = all), so that anything
/// written for Alertmanager's receivers takes our notifications unchanged. The payload is Alertmanager's version "4",
/// checked against its source: <c>notify/webhook/webhook.go</c> (<c>Message</c> embeds <c>*template.Data</c> and adds
/// <c>version</c>, <c>groupKey</c>, <c>truncatedAlerts</c>; <c>truncateAlerts</c> keeps the first <c>max_alerts</c>),
/// <c>template/template.go</c> (<c>Data</c>: <c>receiver</c>, <c>status</c>, <c>alerts</c>, <c>groupLabels</c>,
/// <c>commonLabels</c>, <c>commonAnnotations</c>, <c>externalURL</c>; <c>Alert</c>: <c>status</c>, <c>labels</c>,
/// <c>annotations</c>, <c>startsAt</c>, <c>endsAt</c>, <c>generatorURL</c>, <c>fingerprint</c>; common labels and
/// annotations computed over the alerts sent) and <c>docs/configuration.md</c> (<c>&lt;webhook_config&gt;</c>). Properties
/// are written in the order Go's encoder writes them; times as RFC 3339 in UTC, and a firing alert's <c>endsAt</c> is
/// Go's zero time <c>0001-01-01T00:00:00Z</c>. Two deliberate differences: <c>status</c> is the group's (Alertmanager
/// recomputes it from the truncated alerts, so a cut can turn a firing group "resolved"), and truncation keeps firing
/// alerts before resolved ones. We have no per-alert generator link, so <c>generatorURL</c> is empty.
/// 2xx is delivered, 5xx/429/408 may pass, any other answer is final.
/// </summary>
public sealed class WebhookChannel(IHttpClientFactory httpClients, TimeProvider time, ILogger<WebhookChannel> logger)
    : HttpNotificationChannel(httpClients, time, logger)
{
    public const string HttpClientName = "alerting-webhook";
    public const string UrlSecret = "url";
    public const string MaxAlertsSetting = "max_alerts";
    public const string Version = "4";

    /// <summary>Go's zero <c>time.Time</c> as its JSON encoder writes it; Alertmanager's receivers know it as "not ended".</summary>
    public const string ZeroTime = "0001-01-01T00:00:00Z";

    public override string Type => ChannelTypes.Webhook;

    protected override string ClientName => HttpClientName;

    public override IReadOnlyDictionary<string, string> Validate(ChannelConfig config)
    {
        var check = new ChannelConfigCheck(config, Type, [MaxAlertsSetting], [UrlSecret]);
        check.HttpUrl($"secrets.{UrlSecret}", check.Secret(UrlSecret), required: true);
        if (check.Setting(MaxAlertsSetting) is { } max && !TryParseMaxAlerts(max, out _))
        {
            check.Add($"settings.{MaxAlertsSetting}", "must be a whole number from 0 (all alerts) to 100000.");
        }

        return check.Errors;
    }

    public override Task<DeliveryResult> SendAsync(ChannelConfig config, Notification notification, CancellationToken cancellationToken)
    {
        if (!ChannelUrls.TryParse(config.Secrets.GetValueOrDefault(UrlSecret), out var url))
        {
            return Task.FromResult(new DeliveryResult(DeliveryOutcome.Failed, Error: "secrets.url is missing or not an absolute http(s) URL."));
        }

        var maxAlerts = 0;
        if (config.Settings.GetValueOrDefault(MaxAlertsSetting) is { } max && !TryParseMaxAlerts(max, out maxAlerts))
        {
            return Task.FromResult(new DeliveryResult(DeliveryOutcome.Failed, Error: "settings.max_alerts is not a whole number from 0 to 100000."));
        }

        return PostJsonAsync(config, url, Payload(notification, maxAlerts), cancellationToken);
    }

    internal static byte[] Payload(Notification notification, int maxAlerts)
    {
        var ordered = notification.Alerts.Where(a => a.Status == Notification.Firing).Concat(notification.Alerts.Where(a => a.Status != Notification.Firing)).ToArray();
        var sent = maxAlerts > 0 && ordered.Length > maxAlerts ? ordered[..maxAlerts] : ordered;
        var truncated = ordered.Length - sent.Length;
        var common = notification with { Alerts = sent };

        return WriteJson(json =>
        {
            json.WriteStartObject();
            json.WriteString("receiver", notification.Receiver);
            json.WriteString("status", notification.Status);
            json.WriteStartArray("alerts");
            foreach (var alert in sent)
            {
                json.WriteStartObject();
                json.WriteString("status", alert.Status);
                json.WritePropertyName("labels");
                WriteMap(json, alert.Labels);
                json.WritePropertyName("annotations");
                WriteMap(json, alert.Annotations.OrderBy(a => a.Key, StringComparer.Ordinal));
                json.WriteString("startsAt", AlertDigest.Rfc3339(alert.StartsAt));
                json.WriteString("endsAt", alert.Status != Notification.Firing && alert.EndsAt is { } ended ? AlertDigest.Rfc3339(ended) : ZeroTime);
                json.WriteString("generatorURL", "");
                json.WriteString("fingerprint", alert.Fingerprint);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WritePropertyName("groupLabels");
            WriteMap(json, notification.GroupLabels);
            json.WritePropertyName("commonLabels");
            WriteMap(json, common.CommonLabels);
            json.WritePropertyName("commonAnnotations");
            WriteMap(json, common.CommonAnnotations);
            json.WriteString("externalURL", notification.ExternalUrl?.AbsoluteUri ?? "");
            json.WriteString("version", Version);
            json.WriteString("groupKey", notification.GroupKey);
            json.WriteNumber("truncatedAlerts", truncated);
            json.WriteEndObject();
        });
    }

    private static bool TryParseMaxAlerts(string text, out int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out max) && max <= 100_000;

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
