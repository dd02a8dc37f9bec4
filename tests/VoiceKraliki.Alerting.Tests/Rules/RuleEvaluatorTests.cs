using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Rules;

namespace VoiceKraliki.Alerting.Tests.Rules;

public class RuleEvaluatorTests
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly LabelSet Twilio = LabelSet.Of(("provider", "twilio"));
    private static readonly LabelSet Telnyx = LabelSet.Of(("provider", "telnyx"));

    private static AlertRule DropRule(string @for = "2m", string? keepFiringFor = null, bool enabled = true) => new()
    {
        Name = "call_drop_rate_high",
        Signal = "call_drop_rate",
        Comparison = ">",
        Threshold = 0.05,
        For = @for,
        KeepFiringFor = keepFiringFor,
        Labels = new Dictionary<string, string> { ["severity"] = "high" },
        Annotations = new Dictionary<string, string> { ["summary"] = "Drop rate on {{ $labels.provider }} is {{ $value }}" },
        Enabled = enabled,
    };

    /// <summary>Evaluates a rule over time as the evaluation loop would: keeps the active alerts, records every transition.</summary>
    private sealed class Loop(AlertRule rule)
    {
        private int _ids;

        public AlertRule Rule { get; set; } = rule;

        public Dictionary<string, AlertSnapshot> Active { get; } = new(StringComparer.Ordinal);

        public List<AlertTransition> All { get; } = [];

        public IReadOnlyList<AlertTransition> At(TimeSpan elapsed, params (LabelSet Labels, double Value)[] series)
        {
            var now = T0 + elapsed;
            var samples = series.Select(s => new SignalSample(Rule.Signal!, s.Labels, now, s.Value)).ToList();
            var transitions = RuleEvaluator.Evaluate(Rule, samples, Active, now, () => $"id-{++_ids}");
            foreach (var (kind, alert) in transitions)
            {
                if (kind is TransitionKind.Resolved or TransitionKind.Dropped)
                {
                    Assert.True(Active.Remove(alert.Fingerprint));
                }
                else
                {
                    Active[alert.Fingerprint] = alert;
                }
            }

            All.AddRange(transitions);
            return transitions;
        }

        /// <summary>Evaluates every <paramref name="step"/> from <paramref name="from"/> up to (not including) <paramref name="to"/>.</summary>
        public void Every(TimeSpan step, TimeSpan from, TimeSpan to, params (LabelSet Labels, double Value)[] series)
        {
            for (var t = from; t < to; t += step)
            {
                At(t, series);
            }
        }

        public IEnumerable<TransitionKind> Kinds => All.Select(t => t.Kind);

        public int Count(TransitionKind kind) => All.Count(t => t.Kind == kind);
    }

    private static TimeSpan S(int seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void A_breach_shorter_than_for_goes_pending_then_is_dropped_without_firing()
    {
        var loop = new Loop(DropRule(@for: "2m"));

        Assert.Equal(TransitionKind.Pending, Assert.Single(loop.At(S(0), (Twilio, 0.2))).Kind);
        loop.Every(S(15), S(15), S(105), (Twilio, 0.2));
        var dropped = Assert.Single(loop.At(S(105), (Twilio, 0.01)));

        Assert.Equal(TransitionKind.Dropped, dropped.Kind);
        Assert.Null(dropped.Alert.FiredAt);
        Assert.Equal(AlertState.Resolved, dropped.Alert.State);
        Assert.DoesNotContain(TransitionKind.Fired, loop.Kinds);
        Assert.Empty(loop.Active);
    }

    [Fact]
    public void A_breach_longer_than_for_fires_exactly_once_when_for_has_elapsed()
    {
        var loop = new Loop(DropRule(@for: "2m"));

        loop.Every(S(15), S(0), TimeSpan.FromMinutes(5), (Twilio, 0.2));

        Assert.Equal(1, loop.Count(TransitionKind.Pending));
        var fired = Assert.Single(loop.All, t => t.Kind == TransitionKind.Fired).Alert;
        Assert.Equal(T0 + TimeSpan.FromMinutes(2), fired.FiredAt);
        Assert.Equal(T0, fired.ActiveAt);
        Assert.Equal(AlertState.Firing, fired.State);
        Assert.Single(loop.All.Select(t => t.Alert.Id).Distinct());
        Assert.DoesNotContain(loop.Kinds, k => k is TransitionKind.Resolved or TransitionKind.Dropped);
        Assert.Equal(T0 + TimeSpan.FromMinutes(5) - S(15), loop.Active.Values.Single().LastBreachAt);
    }

    [Fact]
    public void A_rule_with_for_zero_fires_at_the_first_breach()
    {
        var loop = new Loop(DropRule(@for: "0s"));

        var fired = Assert.Single(loop.At(S(0), (Twilio, 0.2)));

        Assert.Equal(TransitionKind.Fired, fired.Kind);
        Assert.Equal(T0, fired.Alert.ActiveAt);
        Assert.Equal(T0, fired.Alert.FiredAt);
        Assert.Equal("id-1", fired.Alert.Id);
    }

    [Fact]
    public void A_flapping_signal_with_keep_firing_for_fires_once_and_resolves_once()
    {
        var loop = new Loop(DropRule(@for: "0s", keepFiringFor: "1m"));

        loop.At(S(0), (Twilio, 0.2));     // fires
        loop.At(S(15), (Twilio, 0.01));   // clears for 30 s, less than keep_firing_for
        loop.At(S(30), (Twilio, 0.01));
        loop.At(S(45), (Twilio, 0.3));    // breaches again: the same occurrence
        loop.At(S(60), (Twilio, 0.01));   // clears for good
        loop.At(S(90), (Twilio, 0.01));
        var stillFiring = loop.At(S(104), (Twilio, 0.01));
        var resolved = loop.At(S(105), (Twilio, 0.01));

        Assert.Empty(stillFiring);
        Assert.Equal(TransitionKind.Resolved, Assert.Single(resolved).Kind);
        Assert.Equal(T0 + S(105), resolved[0].Alert.ResolvedAt);
        Assert.Null(resolved[0].Alert.ResolvedBy);
        Assert.Equal(T0 + S(45), resolved[0].Alert.LastBreachAt);
        Assert.Equal(1, loop.Count(TransitionKind.Fired));
        Assert.Equal(1, loop.Count(TransitionKind.Resolved));
        Assert.Single(loop.All.Select(t => t.Alert.Id).Distinct());
    }

    [Fact]
    public void The_same_flapping_signal_without_keep_firing_for_fires_each_time()
    {
        var loop = new Loop(DropRule(@for: "0s"));

        loop.At(S(0), (Twilio, 0.2));
        loop.At(S(15), (Twilio, 0.01));
        loop.At(S(45), (Twilio, 0.3));
        loop.At(S(60), (Twilio, 0.01));

        Assert.Equal([TransitionKind.Fired, TransitionKind.Resolved, TransitionKind.Fired, TransitionKind.Resolved], loop.Kinds);
        Assert.Equal(2, loop.All.Select(t => t.Alert.Id).Distinct().Count());
        Assert.Single(loop.All.Select(t => t.Alert.Fingerprint).Distinct());
    }

    [Fact]
    public void A_firing_alert_whose_series_disappears_resolves()
    {
        var loop = new Loop(DropRule(@for: "0s"));
        loop.At(S(0), (Twilio, 0.2));

        var resolved = Assert.Single(loop.At(S(15)));

        Assert.Equal(TransitionKind.Resolved, resolved.Kind);
        Assert.Equal(T0 + S(15), resolved.Alert.ResolvedAt);
    }

    [Fact]
    public void A_firing_alert_whose_series_disappears_is_held_by_keep_firing_for()
    {
        var loop = new Loop(DropRule(@for: "0s", keepFiringFor: "1m"));
        loop.At(S(0), (Twilio, 0.2));

        Assert.Empty(loop.At(S(30)));
        Assert.Equal(TransitionKind.Resolved, Assert.Single(loop.At(S(60))).Kind);
    }

    [Fact]
    public void A_pending_alert_whose_series_disappears_is_dropped()
    {
        var loop = new Loop(DropRule(@for: "2m"));
        loop.At(S(0), (Twilio, 0.2));

        Assert.Equal(TransitionKind.Dropped, Assert.Single(loop.At(S(15))).Kind);
    }

    [Fact]
    public void Keep_firing_for_does_not_hold_a_pending_alert()
    {
        var loop = new Loop(DropRule(@for: "2m", keepFiringFor: "5m"));
        loop.At(S(0), (Twilio, 0.2));

        Assert.Equal(TransitionKind.Dropped, Assert.Single(loop.At(S(15), (Twilio, 0.0))).Kind);
    }

    [Fact]
    public void Each_provider_gets_its_own_alert_with_its_own_fingerprint()
    {
        var loop = new Loop(DropRule(@for: "0s"));

        var fired = loop.At(S(0), (Twilio, 0.2), (Telnyx, 0.3));
        var later = loop.At(S(15), (Twilio, 0.01), (Telnyx, 0.3));

        Assert.Equal(2, fired.Count);
        Assert.All(fired, t => Assert.Equal(TransitionKind.Fired, t.Kind));
        Assert.NotEqual(fired[0].Alert.Fingerprint, fired[1].Alert.Fingerprint);
        Assert.NotEqual(fired[0].Alert.Id, fired[1].Alert.Id);
        Assert.Equal("twilio", fired[0].Alert.Labels["provider"]);
        Assert.Equal("telnyx", fired[1].Alert.Labels["provider"]);
        Assert.Equal(
            [(TransitionKind.Updated, "telnyx"), (TransitionKind.Resolved, "twilio")],
            later.Select(t => (t.Kind, Provider: t.Alert.Labels["provider"])).OrderBy(t => t.Provider, StringComparer.Ordinal));
        Assert.Equal("telnyx", Assert.Single(loop.Active.Values).Labels["provider"]);
    }

    [Fact]
    public void A_disabled_rule_resolves_its_firing_alerts_and_drops_its_pending_ones_at_once()
    {
        var loop = new Loop(DropRule(@for: "1m", keepFiringFor: "10m"));
        loop.At(S(0), (Twilio, 0.2));
        loop.At(S(60), (Twilio, 0.2), (Telnyx, 0.2));
        Assert.Equal([AlertState.Firing, AlertState.Pending], loop.Active.Values.OrderBy(a => a.Labels["provider"] == "telnyx").Select(a => a.State));

        loop.Rule = loop.Rule with { Enabled = false };
        var transitions = loop.At(S(75), (Twilio, 0.2), (Telnyx, 0.2));

        Assert.Equal(
            [(TransitionKind.Dropped, "telnyx"), (TransitionKind.Resolved, "twilio")],
            transitions.Select(t => (t.Kind, Provider: t.Alert.Labels["provider"])).OrderBy(t => t.Provider, StringComparer.Ordinal));
        Assert.Empty(loop.Active);
        Assert.Empty(loop.At(S(90), (Twilio, 0.2)));
    }

    [Fact]
    public void Alert_labels_are_the_series_labels_under_the_rule_labels_and_alertname()
    {
        var rule = DropRule(@for: "0s") with
        {
            Labels = new Dictionary<string, string> { ["severity"] = "critical", ["team"] = "voice" },
        };
        var series = LabelSet.Of(("provider", "twilio"), ("severity", "low"), ("alertname", "spoofed"), ("region", "eu"));

        var alert = Assert.Single(new Loop(rule).At(S(0), (series, 0.2))).Alert;

        var expected = LabelSet.Of(
            ("alertname", "call_drop_rate_high"), ("provider", "twilio"), ("region", "eu"), ("severity", "critical"), ("team", "voice"));
        Assert.Equal(expected, alert.Labels);
        Assert.Equal(expected.Fingerprint, alert.Fingerprint);
        Assert.Equal("critical", alert.Severity);
        Assert.Equal("call_drop_rate_high", alert.RuleName);
    }

    [Fact]
    public void An_acknowledgement_and_fired_at_are_carried_over_while_the_alert_changes()
    {
        var loop = new Loop(DropRule(@for: "0s"));
        var fired = loop.At(S(0), (Twilio, 0.2))[0].Alert;
        var ack = new Acknowledgement("oncall@voicekraliki.test", T0 + S(5), "looking");
        loop.Active[fired.Fingerprint] = fired with { Acknowledgement = ack };

        var updated = Assert.Single(loop.At(S(15), (Twilio, 0.4)));
        var resolved = Assert.Single(loop.At(S(30), (Twilio, 0.0)));

        Assert.Equal(TransitionKind.Updated, updated.Kind);
        Assert.Equal(ack, updated.Alert.Acknowledgement);
        Assert.Equal(T0, updated.Alert.FiredAt);
        Assert.Equal(0.4, updated.Alert.Value);
        Assert.Equal(T0 + S(15), updated.Alert.LastBreachAt);
        Assert.Equal(ack, resolved.Alert.Acknowledgement);
        Assert.Equal(T0, resolved.Alert.FiredAt);
    }

    [Fact]
    public void Annotations_are_expanded_for_each_alert_and_follow_the_value()
    {
        var loop = new Loop(DropRule(@for: "0s"));

        var fired = loop.At(S(0), (Twilio, 0.123456))[0].Alert;
        var updated = loop.At(S(15), (Twilio, 0.2))[0].Alert;

        Assert.Equal("Drop rate on twilio is 0.1235", fired.Annotations["summary"]);
        Assert.Equal("Drop rate on twilio is 0.2", updated.Annotations["summary"]);
    }

    [Fact]
    public void A_nan_value_never_breaches_and_resolves_a_firing_alert()
    {
        var loop = new Loop(DropRule(@for: "0s"));
        Assert.Empty(loop.At(S(0), (Twilio, double.NaN)));

        loop.At(S(15), (Twilio, 0.2));
        Assert.Equal(TransitionKind.Resolved, Assert.Single(loop.At(S(30), (Twilio, double.NaN))).Kind);
    }

    [Theory]
    [InlineData(">", 0.05, false)]
    [InlineData(">", 0.06, true)]
    [InlineData(">=", 0.05, true)]
    [InlineData("<", 0.04, true)]
    [InlineData("<", 0.05, false)]
    [InlineData("<=", 0.05, true)]
    [InlineData("==", 0.05, true)]
    [InlineData("==", 0.06, false)]
    [InlineData("!=", 0.06, true)]
    [InlineData("!=", 0.05, false)]
    public void The_comparison_decides_the_breach(string comparison, double value, bool breaches)
    {
        var rule = DropRule(@for: "0s") with { Comparison = comparison };
        Assert.Equal(breaches, new Loop(rule).At(S(0), (Twilio, value)).Count == 1);
    }

    [Fact]
    public void A_breach_after_resolution_is_a_new_occurrence_of_the_same_alert()
    {
        var loop = new Loop(DropRule(@for: "0s"));
        var first = loop.At(S(0), (Twilio, 0.2))[0].Alert;
        var resolved = loop.At(S(15), (Twilio, 0.0))[0].Alert;

        // A store that still hands back the resolved occurrence must not revive it.
        var again = RuleEvaluator.Evaluate(
            DropRule(@for: "0s"),
            [new SignalSample("call_drop_rate", Twilio, T0 + S(30), 0.2)],
            new Dictionary<string, AlertSnapshot> { [resolved.Fingerprint] = resolved },
            T0 + S(30),
            () => "id-new");

        var second = Assert.Single(again);
        Assert.Equal(TransitionKind.Fired, second.Kind);
        Assert.Equal("id-new", second.Alert.Id);
        Assert.Equal(first.Fingerprint, second.Alert.Fingerprint);
        Assert.Equal(T0 + S(30), second.Alert.ActiveAt);
    }

    [Fact]
    public void Samples_of_another_signal_are_ignored()
    {
        var transitions = RuleEvaluator.Evaluate(
            DropRule(@for: "0s"),
            [new SignalSample("error_rate", Twilio, T0, 0.9)],
            new Dictionary<string, AlertSnapshot>(),
            T0,
            () => "id");

        Assert.Empty(transitions);
    }

    [Fact]
    public void The_same_inputs_give_the_same_transitions()
    {
        IReadOnlyList<AlertTransition> Run()
        {
            var loop = new Loop(DropRule(@for: "30s", keepFiringFor: "1m"));
            loop.At(S(0), (Twilio, 0.2), (Telnyx, 0.3));
            loop.At(S(30), (Telnyx, 0.3));
            loop.At(S(120));
            return loop.All;
        }

        Assert.Equal(Run(), Run(), (a, b) => a.Kind == b.Kind && a.Alert.Id == b.Alert.Id && a.Alert.Fingerprint == b.Alert.Fingerprint);
    }
}
