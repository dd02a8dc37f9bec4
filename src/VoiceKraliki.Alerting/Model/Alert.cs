using System.Text.Json.Serialization;

namespace VoiceKraliki.Alerting.Model;

/// <summary>
/// Where an alert is in its life. An inactive rule has no alert; a pending alert whose condition clears before
/// <c>for</c> is dropped, never notified; acknowledgement is not a state of its own (<see cref="AlertSnapshot.Acknowledgement"/>)
/// because a firing alert stays firing, and an acknowledged one can still resolve.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<AlertState>))]
public enum AlertState
{
    [JsonStringEnumMemberName("pending")]
    Pending,

    [JsonStringEnumMemberName("firing")]
    Firing,

    [JsonStringEnumMemberName("resolved")]
    Resolved,
}

/// <summary>Who acknowledged an alert, when, and why.</summary>
public sealed record Acknowledgement(string By, DateTimeOffset At, string? Note);

/// <summary>
/// One occurrence of an alert: a rule's condition for one label set, from pending until resolved. The alert's identity
/// is its label set (<see cref="Fingerprint"/>): at most one occurrence per fingerprint is active (pending or firing) at
/// a time, and a later breach of the same problem is a new occurrence (a new <see cref="Id"/>) with the same
/// fingerprint. <see cref="Labels"/> are the series' labels under the rule's labels, plus <c>alertname</c> (the rule's
/// name); <c>severity</c> comes from the rule.
/// </summary>
/// <param name="Id">This occurrence (a version-7 GUID, so ids sort by time).</param>
/// <param name="ActiveAt">When the condition became true (pending since).</param>
/// <param name="FiredAt">When it went from pending to firing.</param>
/// <param name="LastBreachAt">The last evaluation at which the condition held (for <c>keep_firing_for</c>).</param>
/// <param name="ResolvedBy">Who resolved it by hand; <c>null</c> when it resolved by itself.</param>
public sealed record AlertSnapshot(
    string Id,
    string Fingerprint,
    string RuleName,
    LabelSet Labels,
    IReadOnlyDictionary<string, string> Annotations,
    AlertState State,
    double Value,
    DateTimeOffset ActiveAt,
    DateTimeOffset? FiredAt,
    DateTimeOffset LastBreachAt,
    DateTimeOffset? ResolvedAt,
    string? ResolvedBy,
    Acknowledgement? Acknowledgement)
{
    public const string AlertNameLabel = "alertname";
    public const string SeverityLabel = "severity";
    public const string ProviderLabel = "provider";

    public string Severity => Labels.TryGetValue(SeverityLabel, out var severity) ? severity : "medium";
}
