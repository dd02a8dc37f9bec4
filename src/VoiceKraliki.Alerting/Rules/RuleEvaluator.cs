using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Rules;

/// <summary>What happened to one alert in one evaluation.</summary>
public enum TransitionKind
{
    /// <summary>A new occurrence whose condition holds, waiting for <c>for</c>; not notified.</summary>
    Pending,

    /// <summary>Pending → firing, or a new occurrence straight to firing when <c>for</c> is 0.</summary>
    Fired,

    /// <summary>Still pending or firing, and its value, last breach or annotations changed.</summary>
    Updated,

    /// <summary>Firing → resolved by itself (<see cref="AlertSnapshot.ResolvedBy"/> is null).</summary>
    Resolved,

    /// <summary>A pending occurrence whose condition cleared, or whose rule was disabled; it was never notified.</summary>
    Dropped,
}

/// <summary>
/// One alert's change, with the alert as it is now. A <see cref="TransitionKind.Dropped"/> alert is no longer active:
/// its state is <see cref="AlertState.Resolved"/> with <see cref="AlertSnapshot.FiredAt"/> null.
/// </summary>
public sealed record AlertTransition(TransitionKind Kind, AlertSnapshot Alert);

/// <summary>
/// Evaluates one rule over the current series of its signal, as Prometheus evaluates an alerting rule: one alert per
/// label set (series labels, the rule's labels on top, then <c>alertname</c>); inactive → pending while the condition
/// holds for less than <c>for</c> → firing; a pending alert whose condition clears is dropped; a firing alert whose
/// condition clears (or whose series disappeared) stays firing while <c>now - LastBreachAt &lt; keep_firing_for</c>,
/// then resolves. Pure: the same inputs give the same transitions, in the order of the series, then of the vanished
/// alerts by fingerprint.
/// </summary>
public static class RuleEvaluator
{
    /// <param name="series">The current samples of the rule's signal; samples of other signals are ignored.</param>
    /// <param name="activeByFingerprint">This rule's pending and firing alerts; resolved ones are ignored.</param>
    /// <param name="newId">Makes the id of a new occurrence.</param>
    public static IReadOnlyList<AlertTransition> Evaluate(
        AlertRule rule,
        IReadOnlyList<SignalSample> series,
        IReadOnlyDictionary<string, AlertSnapshot> activeByFingerprint,
        DateTimeOffset now,
        Func<string> newId)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(activeByFingerprint);
        ArgumentNullException.ThrowIfNull(newId);

        var transitions = new List<AlertTransition>();
        var active = activeByFingerprint
            .Where(a => a.Value.State is AlertState.Pending or AlertState.Firing)
            .ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);

        if (rule.Enabled)
        {
            foreach (var (labels, value) in Breaches(rule, series))
            {
                var fingerprint = labels.Fingerprint;
                active.Remove(fingerprint, out var current);
                transitions.AddRange(Breached(rule, labels, value, current, now, newId));
            }
        }

        foreach (var (_, alert) in active.OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            if (NotBreached(rule, alert, now) is { } transition)
            {
                transitions.Add(transition);
            }
        }

        return transitions;
    }

    /// <summary>The alert labels and value of each series whose condition holds, one per label set.</summary>
    private static List<(LabelSet Labels, double Value)> Breaches(AlertRule rule, IReadOnlyList<SignalSample> series)
    {
        var ruleLabels = rule.LabelSet;
        var breaches = new List<(LabelSet Labels, double Value)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var sample in series)
        {
            if (sample is null || sample.Signal != rule.Signal || !rule.IsBreachedBy(sample.Value))
            {
                continue;
            }

            var labels = (sample.Labels ?? LabelSet.Empty).Merge(ruleLabels);
            if (!string.IsNullOrEmpty(rule.Name))
            {
                labels = labels.With(AlertSnapshot.AlertNameLabel, rule.Name);
            }

            // Two series that become one label set under the rule's labels: Prometheus fails the evaluation; we keep
            // the first, so one alert stands for both.
            if (seen.Add(labels.Fingerprint))
            {
                breaches.Add((labels, sample.Value));
            }
        }

        return breaches;
    }

    private static IEnumerable<AlertTransition> Breached(
        AlertRule rule, LabelSet labels, double value, AlertSnapshot? current, DateTimeOffset now, Func<string> newId)
    {
        var annotations = AnnotationTemplate.ExpandAll(rule.Annotations, labels, value, rule.Threshold);
        if (current is null)
        {
            var fresh = new AlertSnapshot(
                Id: newId(),
                Fingerprint: labels.Fingerprint,
                RuleName: rule.Name ?? "",
                Labels: labels,
                Annotations: annotations,
                State: AlertState.Pending,
                Value: value,
                ActiveAt: now,
                FiredAt: null,
                LastBreachAt: now,
                ResolvedAt: null,
                ResolvedBy: null,
                Acknowledgement: null);
            yield return rule.ForDuration <= TimeSpan.Zero
                ? new AlertTransition(TransitionKind.Fired, fresh with { State = AlertState.Firing, FiredAt = now })
                : new AlertTransition(TransitionKind.Pending, fresh);
            yield break;
        }

        var updated = current with { Value = value, LastBreachAt = now, Annotations = annotations };
        if (current.State == AlertState.Pending && now - current.ActiveAt >= rule.ForDuration)
        {
            yield return new AlertTransition(TransitionKind.Fired, updated with { State = AlertState.Firing, FiredAt = now });
        }
        else if (!current.Value.Equals(value) || current.LastBreachAt != now || !SameAnnotations(current.Annotations, annotations))
        {
            yield return new AlertTransition(TransitionKind.Updated, updated);
        }
    }

    /// <summary>An active alert whose condition does not hold now (value back to normal, series gone, rule disabled).</summary>
    private static AlertTransition? NotBreached(AlertRule rule, AlertSnapshot alert, DateTimeOffset now)
    {
        if (alert.State == AlertState.Pending)
        {
            return new AlertTransition(TransitionKind.Dropped, alert with { State = AlertState.Resolved, ResolvedAt = now, ResolvedBy = null });
        }

        if (rule.Enabled && now - alert.LastBreachAt < rule.KeepFiringForDuration)
        {
            return null;
        }

        return new AlertTransition(TransitionKind.Resolved, alert with { State = AlertState.Resolved, ResolvedAt = now, ResolvedBy = null });
    }

    private static bool SameAnnotations(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string> b) =>
        a is not null && a.Count == b.Count && b.All(e => a.TryGetValue(e.Key, out var value) && value == e.Value);
}
