using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Notifications;

/// <summary>
/// What one receiver is told about one group of alerts at one moment, as Alertmanager groups them: the alerts that share
/// the route's <c>group_by</c> labels (<see cref="GroupLabels"/>). <see cref="Status"/> is <c>firing</c> while any
/// alert of the group fires, <c>resolved</c> when all have resolved. <see cref="GroupKey"/> is stable for the group,
/// so a channel that keeps state (PagerDuty's <c>dedup_key</c>) derives it from there.
/// </summary>
public sealed record Notification(
    string Receiver,
    string GroupKey,
    LabelSet GroupLabels,
    string Status,
    IReadOnlyList<NotifiedAlert> Alerts,
    Uri? ExternalUrl)
{
    public const string Firing = "firing";
    public const string Resolved = "resolved";

    /// <summary>Labels every alert of the group has with the same value (Alertmanager's <c>commonLabels</c>).</summary>
    public LabelSet CommonLabels => Common(Alerts.Select(a => (IReadOnlyDictionary<string, string>)a.Labels));

    /// <summary>Annotations every alert of the group has with the same value (<c>commonAnnotations</c>).</summary>
    public LabelSet CommonAnnotations => Common(Alerts.Select(a => a.Annotations));

    private static LabelSet Common(IEnumerable<IReadOnlyDictionary<string, string>> sets)
    {
        Dictionary<string, string>? common = null;
        foreach (var set in sets)
        {
            if (common is null)
            {
                common = new Dictionary<string, string>(set, StringComparer.Ordinal);
                continue;
            }

            foreach (var key in common.Keys.ToArray())
            {
                if (!set.TryGetValue(key, out var value) || value != common[key])
                {
                    common.Remove(key);
                }
            }
        }

        return LabelSet.From(common);
    }
}

/// <summary>One alert as a notification carries it (Alertmanager's alert object, plus our acknowledgement).</summary>
/// <param name="Status"><c>firing</c> or <c>resolved</c>.</param>
/// <param name="EndsAt">When it resolved; null while firing.</param>
public sealed record NotifiedAlert(
    string Fingerprint,
    string Status,
    string RuleName,
    LabelSet Labels,
    IReadOnlyDictionary<string, string> Annotations,
    DateTimeOffset StartsAt,
    DateTimeOffset? EndsAt,
    double Value,
    Acknowledgement? Acknowledgement)
{
    public string Severity => Labels.TryGetValue(AlertSnapshot.SeverityLabel, out var severity) ? severity : "medium";
}
