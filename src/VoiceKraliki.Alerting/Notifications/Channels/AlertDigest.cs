using System.Globalization;
using System.Text;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// What every channel says about a group, worked out once: the title in Alertmanager's familiar shape
/// (<c>[FIRING:2] HighCallDropRate twilio (high)</c>), the group's alert name, worst severity, summary and runbook.
/// </summary>
internal sealed class AlertDigest
{
    public const string SummaryAnnotation = "summary";
    public const string DescriptionAnnotation = "description";
    public const string RunbookAnnotation = "runbook_url";

    private static readonly string[] SeverityOrder = ["low", "medium", "high", "critical"];

    private AlertDigest(Notification notification)
    {
        Notification = notification;
        Firing = [.. notification.Alerts.Where(a => a.Status == Notification.Firing)];
        Resolved = [.. notification.Alerts.Where(a => a.Status != Notification.Firing)];
        IsFiring = notification.Status == Notification.Firing;
        CommonLabels = notification.CommonLabels;
        CommonAnnotations = notification.CommonAnnotations;

        AlertName = CommonLabels.TryGetValue(AlertSnapshot.AlertNameLabel, out var name) ? name
            : notification.GroupLabels.TryGetValue(AlertSnapshot.AlertNameLabel, out name) ? name
            : string.Join(", ", notification.Alerts.Select(a => a.Labels.TryGetValue(AlertSnapshot.AlertNameLabel, out var n) ? n : a.RuleName)
                .Where(n => n.Length > 0).Distinct(StringComparer.Ordinal));
        if (AlertName.Length == 0)
        {
            AlertName = "alert";
        }

        var relevant = IsFiring ? Firing : notification.Alerts;
        Severity = relevant.Select(a => a.Severity).MaxBy(SeverityRank) ?? "medium";

        Summary = Annotation(SummaryAnnotation) ?? Annotation(DescriptionAnnotation) ?? "";
        RunbookUrl = RunbookOf(CommonAnnotations) ?? relevant.Select(a => RunbookOf(a.Annotations)).FirstOrDefault(u => u is not null);

        var status = IsFiring ? $"FIRING:{Firing.Count}" : "RESOLVED";
        var title = new StringBuilder().Append('[').Append(status).Append("] ").Append(AlertName);
        foreach (var (key, value) in notification.GroupLabels.Where(l => l.Key != AlertSnapshot.AlertNameLabel))
        {
            title.Append(' ').Append(value);
        }

        var extra = CommonLabels.Where(l => l.Key != AlertSnapshot.AlertNameLabel && !notification.GroupLabels.ContainsKey(l.Key)).Select(l => l.Value).ToArray();
        if (extra.Length > 0)
        {
            title.Append(" (").AppendJoin(' ', extra).Append(')');
        }

        Title = OneLine(title.ToString());
    }

    public Notification Notification { get; }

    public IReadOnlyList<NotifiedAlert> Firing { get; }

    public IReadOnlyList<NotifiedAlert> Resolved { get; }

    public bool IsFiring { get; }

    public LabelSet CommonLabels { get; }

    public LabelSet CommonAnnotations { get; }

    public string AlertName { get; }

    /// <summary>The worst severity among the firing alerts (among all of them once resolved).</summary>
    public string Severity { get; }

    /// <summary>The common summary (or description) annotation, else the first alert's.</summary>
    public string Summary { get; }

    /// <summary>An absolute http(s) <c>runbook_url</c>, common or of the first alert that has one.</summary>
    public Uri? RunbookUrl { get; }

    public string Title { get; }

    /// <summary>Every firing alert is acknowledged (and at least one fires).</summary>
    public bool AllFiringAcknowledged => IsFiring && Firing.Count > 0 && Firing.All(a => a.Acknowledgement is not null);

    public static AlertDigest Of(Notification notification) => new(notification);

    public static int SeverityRank(string severity) => Array.IndexOf(SeverityOrder, severity);

    public static Uri? RunbookOf(IReadOnlyDictionary<string, string> annotations) =>
        annotations.TryGetValue(RunbookAnnotation, out var value) && ChannelUrls.TryParse(value, out var url) ? url : null;

    public static string? SummaryOf(NotifiedAlert alert) =>
        alert.Annotations.TryGetValue(SummaryAnnotation, out var summary) && summary.Length > 0 ? summary
        : alert.Annotations.TryGetValue(DescriptionAnnotation, out var description) && description.Length > 0 ? description
        : null;

    public static string FormatValue(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>RFC 3339 in UTC with only the fraction digits needed, as Go writes <c>time.Time</c>.</summary>
    public static string Rfc3339(DateTimeOffset at) =>
        at.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    /// <summary>The text on one line: control characters (line breaks included) become spaces.</summary>
    public static string OneLine(string text)
    {
        if (!text.Any(char.IsControl))
        {
            return text;
        }

        var chars = text.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (char.IsControl(chars[i]))
            {
                chars[i] = ' ';
            }
        }

        return new string(chars);
    }

    /// <summary>At most <paramref name="max"/> UTF-16 units, ending in '…' when cut, never splitting a surrogate pair.</summary>
    public static string Truncate(string text, int max)
    {
        if (text.Length <= max)
        {
            return text;
        }

        var cut = max - 1;
        if (cut > 0 && char.IsHighSurrogate(text[cut - 1]))
        {
            cut--;
        }

        return string.Concat(text.AsSpan(0, cut), "…");
    }

    private string? Annotation(string name)
    {
        if (CommonAnnotations.TryGetValue(name, out var common) && common.Length > 0)
        {
            return common;
        }

        var alerts = IsFiring ? Firing : Notification.Alerts;
        return alerts.Select(a => a.Annotations.TryGetValue(name, out var value) ? value : null).FirstOrDefault(v => !string.IsNullOrEmpty(v));
    }
}
