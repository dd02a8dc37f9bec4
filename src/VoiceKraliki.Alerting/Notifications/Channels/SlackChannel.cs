using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// A Slack incoming webhook (secret <c>url</c>, no settings): <c>text</c> for notifications and clients without Block
/// Kit, and <c>blocks</c> with the group's status, alert name, severity, summary, each alert's labels and the runbook.
/// Slack answers 200 <c>ok</c>; 400 (<c>invalid_payload</c>), 403 (<c>action_prohibited</c>) and 404/410 (a removed
/// channel or app) will not change; 429 carries <c>Retry-After</c>; 5xx may pass.
/// </summary>
public sealed class SlackChannel(IHttpClientFactory httpClients, TimeProvider time, ILogger<SlackChannel> logger)
    : HttpNotificationChannel(httpClients, time, logger)
{
    public const string HttpClientName = "alerting-slack";
    public const string UrlSecret = "url";

    // Block Kit limits (api.slack.com/reference/block-kit): a header's text 150 characters, a section's 3000, a field's
    // 2000, a context 10 elements, a message 50 blocks. Beyond them Slack answers 400 invalid_blocks.
    private const int MaxHeader = 150;
    private const int MaxSection = 3000;
    private const int MaxField = 2000;
    private const int MaxAlertSections = 10;
    private const int MaxText = 3000;

    public override string Type => ChannelTypes.Slack;

    protected override string ClientName => HttpClientName;

    public override IReadOnlyDictionary<string, string> Validate(ChannelConfig config)
    {
        var check = new ChannelConfigCheck(config, Type, [], [UrlSecret]);
        check.HttpUrl($"secrets.{UrlSecret}", check.Secret(UrlSecret), required: true);
        return check.Errors;
    }

    public override Task<DeliveryResult> SendAsync(ChannelConfig config, Notification notification, CancellationToken cancellationToken)
    {
        if (!ChannelUrls.TryParse(config.Secrets.GetValueOrDefault(UrlSecret), out var url))
        {
            return Task.FromResult(new DeliveryResult(DeliveryOutcome.Failed, Error: "secrets.url is missing or not an absolute http(s) URL."));
        }

        return PostJsonAsync(config, url, Payload(notification), cancellationToken);
    }

    internal static byte[] Payload(Notification notification)
    {
        var digest = AlertDigest.Of(notification);
        return WriteJson(json =>
        {
            json.WriteStartObject();
            json.WriteString("text", AlertDigest.Truncate(digest.Summary.Length > 0 ? $"{digest.Title}: {AlertDigest.OneLine(digest.Summary)}" : digest.Title, MaxText));
            json.WriteStartArray("blocks");

            json.WriteStartObject();
            json.WriteString("type", "header");
            PlainText(json, "text", AlertDigest.Truncate($"{(digest.IsFiring ? "🔥" : "✅")} {digest.Title}", MaxHeader));
            json.WriteEndObject();

            json.WriteStartObject();
            json.WriteString("type", "section");
            json.WriteStartArray("fields");
            Markdown(json, $"*Status*\n{(digest.IsFiring ? $"firing ({digest.Firing.Count})" : "resolved")}", MaxField);
            Markdown(json, $"*Alert*\n{Escape(digest.AlertName)}", MaxField);
            Markdown(json, $"*Severity*\n{Escape(digest.Severity)}", MaxField);
            Markdown(json, $"*Receiver*\n{Escape(notification.Receiver)}", MaxField);
            json.WriteEndArray();
            json.WriteEndObject();

            if (digest.Summary.Length > 0 || digest.RunbookUrl is not null)
            {
                var text = new StringBuilder();
                if (digest.Summary.Length > 0)
                {
                    text.Append("*Summary*\n").Append(Escape(digest.Summary));
                }

                if (digest.RunbookUrl is { } runbook)
                {
                    text.Append(text.Length > 0 ? "\n" : "").Append(Link(runbook, "Runbook"));
                }

                Section(json, text.ToString());
            }

            // The firing alerts first: they are what needs doing.
            var alerts = digest.Firing.Concat(digest.Resolved).ToArray();
            foreach (var alert in alerts.Take(MaxAlertSections))
            {
                Section(json, AlertText(alert, digest));
            }

            json.WriteStartObject();
            json.WriteString("type", "context");
            json.WriteStartArray("elements");
            var context = new StringBuilder();
            if (alerts.Length > MaxAlertSections)
            {
                context.Append($"and {alerts.Length - MaxAlertSections} more alert(s) · ");
            }

            context.Append("group ").Append(Escape(notification.GroupLabels.ToString()));
            if (notification.ExternalUrl is { } external && ChannelUrls.TryParse(external.AbsoluteUri, out var externalUrl))
            {
                context.Append(" · ").Append(Link(externalUrl, "VoiceKraliki alerting"));
            }

            Markdown(json, context.ToString(), MaxField);
            json.WriteEndArray();
            json.WriteEndObject();

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private static string AlertText(NotifiedAlert alert, AlertDigest digest)
    {
        var text = new StringBuilder();
        text.Append(alert.Status == Notification.Firing ? "*firing*" : "*resolved*");
        if (alert.Labels.TryGetValue(AlertSnapshot.AlertNameLabel, out var name) && name != digest.AlertName)
        {
            text.Append(' ').Append(Escape(name));
        }

        text.Append(" · ").Append(Escape(alert.Severity)).Append(" · value ").Append(AlertDigest.FormatValue(alert.Value))
            .Append(" · since ").Append(AlertDigest.Rfc3339(alert.StartsAt));
        if (alert.EndsAt is { } ended)
        {
            text.Append(" · ended ").Append(AlertDigest.Rfc3339(ended));
        }

        if (AlertDigest.SummaryOf(alert) is { } summary && summary != digest.Summary)
        {
            text.Append('\n').Append(Escape(summary));
        }

        var labels = alert.Labels.Where(l => l.Key is not AlertSnapshot.AlertNameLabel and not AlertSnapshot.SeverityLabel).ToArray();
        if (labels.Length > 0)
        {
            text.Append('\n').AppendJoin(' ', labels.Select(l => $"`{Escape(l.Key)}={Escape(l.Value).Replace('`', '\'')}`"));
        }

        if (alert.Acknowledgement is { } ack)
        {
            text.Append("\nAcknowledged by ").Append(Escape(ack.By)).Append(" at ").Append(AlertDigest.Rfc3339(ack.At));
            if (!string.IsNullOrWhiteSpace(ack.Note))
            {
                text.Append(": ").Append(Escape(ack.Note));
            }
        }

        if (AlertDigest.RunbookOf(alert.Annotations) is { } runbook && runbook != digest.RunbookUrl)
        {
            text.Append('\n').Append(Link(runbook, "Runbook"));
        }

        return text.ToString();
    }

    private static void Section(Utf8JsonWriter json, string markdown)
    {
        json.WriteStartObject();
        json.WriteString("type", "section");
        Markdown(json, markdown, MaxSection, "text");
        json.WriteEndObject();
    }

    private static void Markdown(Utf8JsonWriter json, string text, int max, string? property = null)
    {
        if (property is null)
        {
            json.WriteStartObject();
        }
        else
        {
            json.WriteStartObject(property);
        }

        json.WriteString("type", "mrkdwn");
        json.WriteString("text", AlertDigest.Truncate(text.Length == 0 ? " " : text, max));
        json.WriteEndObject();
    }

    private static void PlainText(Utf8JsonWriter json, string property, string text)
    {
        json.WriteStartObject(property);
        json.WriteString("type", "plain_text");
        json.WriteString("text", AlertDigest.OneLine(text));
        json.WriteBoolean("emoji", true);
        json.WriteEndObject();
    }

    /// <summary>Slack's mrkdwn escaping (api.slack.com/reference/surfaces/formatting#escaping): &amp;, &lt; and &gt; only.</summary>
    internal static string Escape(string text) =>
        text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);

    private static string Link(Uri url, string label) =>
        $"<{url.AbsoluteUri.Replace("|", "%7C", StringComparison.Ordinal).Replace(">", "%3E", StringComparison.Ordinal)}|{label}>";
}
