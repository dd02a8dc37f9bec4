using Microsoft.Extensions.Options;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Signals;
using VoiceKraliki.Alerting.Tests.Support;
using VoiceKraliki.Contracts;
using static VoiceKraliki.Alerting.Tests.Signals.SignalEvents;

namespace VoiceKraliki.Alerting.Tests.Signals;

/// <summary>What each signal reads for the events it is fed, on a clock the test moves.</summary>
public sealed class SignalStoreTests
{
    private readonly ManualClock _clock = new(Start);

    private SignalStore NewStore(Action<SignalOptions>? configure = null)
    {
        var options = new SignalOptions();
        configure?.Invoke(options);
        return new SignalStore(Options.Create(options), _clock);
    }

    private static double? Value(SignalStore store, string signal, DateTimeOffset now, string provider = "twilio") =>
        store.Current(signal, now).SingleOrDefault(s => s.Labels.TryGetValue("provider", out var p) && p == provider)?.Value;

    private static double? Unlabelled(SignalStore store, string signal, DateTimeOffset now) =>
        store.Current(signal, now).SingleOrDefault(s => s.Labels.Count == 0)?.Value;

    [Fact]
    public void Call_drop_rate_is_abnormal_ends_among_answered_calls_only()
    {
        var store = NewStore();
        var now = _clock.Now;
        // Answered calls (ending from a connected state): 7 normal ends, 3 abnormal.
        for (var i = 0; i < 4; i++)
        {
            store.Record(CallEnded(now, CallStatus.Answered, CallEndReason.Normal));
        }

        store.Record(CallEnded(now, CallStatus.OnHold, CallEndReason.Normal));
        store.Record(CallEnded(now, CallStatus.Answered, CallEndReason.MachineDetected));
        store.Record(CallEnded(now, CallStatus.Transferring, CallEndReason.TimeLimit));
        store.Record(CallEnded(now, CallStatus.Answered, CallEndReason.Unknown));
        store.Record(CallEnded(now, CallStatus.OnHold, CallEndReason.Unknown));
        store.Record(CallEnded(now, CallStatus.Answered, CallEndReason.Failed));
        // Never answered: not drops, whatever their end.
        store.Record(CallEnded(now, CallStatus.Ringing, CallEndReason.NoAnswer));
        store.Record(CallEnded(now, CallStatus.Ringing, CallEndReason.Busy));
        store.Record(CallEnded(now, CallStatus.Initiated, CallEndReason.Failed, CallStatus.Failed));
        store.Record(CallEnded(now, null, CallEndReason.Unknown));

        Assert.Equal(0.3, Value(store, SignalNames.CallDropRate, now)!.Value, 9);
    }

    [Fact]
    public void Call_failure_rate_counts_technical_failures_among_all_ended_calls_but_not_busy_or_unanswered_ones()
    {
        var store = NewStore();
        var now = _clock.Now;
        for (var i = 0; i < 5; i++)
        {
            store.Record(CallEnded(now, CallStatus.Answered, CallEndReason.Normal));
        }

        store.Record(CallEnded(now, CallStatus.Ringing, CallEndReason.Busy));
        store.Record(CallEnded(now, CallStatus.Ringing, CallEndReason.NoAnswer));
        store.Record(CallEnded(now, CallStatus.Ringing, CallEndReason.Canceled));
        store.Record(CallEnded(now, CallStatus.Initiated, CallEndReason.Failed, CallStatus.Failed));
        store.Record(CallEnded(now, CallStatus.Ringing, CallEndReason.Failed, CallStatus.Failed));
        // Live states are not ends.
        Assert.False(store.Record(CallEnded(now, CallStatus.Ringing, CallEndReason.None, CallStatus.Answered)));

        Assert.Equal(0.2, Value(store, SignalNames.CallFailureRate, now)!.Value, 9);
    }

    [Fact]
    public void Webhook_failure_rate_is_rejected_over_accepted_plus_rejected_per_provider_with_unknown_for_none()
    {
        var store = NewStore();
        var now = _clock.Now;
        for (var i = 0; i < 7; i++)
        {
            store.Record(Accepted(now));
            store.Record(Accepted(now, TelephonyProvider.Telnyx));
        }

        for (var i = 0; i < 3; i++)
        {
            store.Record(Rejected(now));
        }

        for (var i = 0; i < 5; i++)
        {
            store.Record(Rejected(now, provider: null));
        }

        Assert.Equal(0.3, Value(store, SignalNames.WebhookFailureRate, now)!.Value, 9);
        Assert.Equal(0, Value(store, SignalNames.WebhookFailureRate, now, "telnyx"));
        Assert.Equal(1, Value(store, SignalNames.WebhookFailureRate, now, "unknown"));
        Assert.Equal(["telnyx", "twilio", "unknown"], store.Current(SignalNames.WebhookFailureRate, now).Select(s => s.Labels["provider"]));
    }

    [Fact]
    public void A_rate_has_no_value_until_its_window_holds_the_minimum_number_of_events()
    {
        var store = NewStore();
        var now = _clock.Now;

        store.Record(Rejected(now));
        Assert.Null(Value(store, SignalNames.WebhookFailureRate, now));
        Assert.Empty(store.Sample(now));

        for (var i = 0; i < 3; i++)
        {
            store.Record(Accepted(now));
        }

        Assert.Null(Value(store, SignalNames.WebhookFailureRate, now));
        store.Record(Accepted(now));
        Assert.Equal(0.2, Value(store, SignalNames.WebhookFailureRate, now));

        // When the events leave the window, the value goes with them.
        Assert.Null(Value(store, SignalNames.WebhookFailureRate, now.AddSeconds(60)));
    }

    [Fact]
    public void The_minimum_and_the_window_can_be_set_per_signal()
    {
        var store = NewStore(o =>
        {
            o.MinEvents[SignalNames.WebhookFailureRate] = 1;
            o.Windows[SignalNames.WebhookFailureRate] = TimeSpan.FromSeconds(10);
        });
        var now = _clock.Now;
        store.Record(Rejected(now));

        Assert.Equal(1, Value(store, SignalNames.WebhookFailureRate, now));
        Assert.Equal(1, Value(store, SignalNames.WebhookFailureRate, now.AddSeconds(9)));
        Assert.Null(Value(store, SignalNames.WebhookFailureRate, now.AddSeconds(10)));
    }

    [Fact]
    public void A_rate_follows_the_sliding_window_as_events_age_out()
    {
        var store = NewStore();
        var start = _clock.Now;
        for (var i = 0; i < 10; i++)
        {
            store.Record(Rejected(start));
        }

        _clock.Advance(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 10; i++)
        {
            store.Record(Accepted(_clock.Now));
        }

        Assert.Equal(0.5, Value(store, SignalNames.WebhookFailureRate, start.AddSeconds(59)));
        Assert.Equal(0, Value(store, SignalNames.WebhookFailureRate, start.AddSeconds(60)));
        Assert.Equal(0, Value(store, SignalNames.WebhookFailureRate, start.AddSeconds(89)));
        Assert.Null(Value(store, SignalNames.WebhookFailureRate, start.AddSeconds(90)));
    }

    [Fact]
    public void Error_rate_adds_up_the_reports_of_every_ingress_replica()
    {
        var store = NewStore();
        var now = _clock.Now;
        store.Record(Traffic(now, accepted: 90, rejected: 5, serverErrors: 5, instance: "ingress-1"));
        store.Record(Traffic(now, accepted: 100, rejected: 0, serverErrors: 0, instance: "ingress-2"));
        store.Record(Traffic(now, accepted: 0, rejected: 0, serverErrors: 3, provider: TelephonyProvider.Telnyx));

        Assert.Equal(5.0 / 200, Value(store, SignalNames.ErrorRate, now)!.Value, 9);
        // Three answers are fewer than the minimum of five.
        Assert.Null(Value(store, SignalNames.ErrorRate, now, "telnyx"));
    }

    [Fact]
    public void Response_time_p95_interpolates_inside_the_bucket_of_the_merged_histograms()
    {
        var store = NewStore();
        var now = _clock.Now;
        // 100 answers: 90 within 10 ms, 10 between 50 and 100 ms. The 95th is the 5th of those 10: 50 + 50·5/10 = 75 ms.
        store.Record(Traffic(now, 60, 0, 0, Buckets((10, 60))));
        store.Record(Traffic(now, 40, 0, 0, Buckets((10, 30), (100, 10)), instance: "ingress-2"));

        Assert.Equal(75, Value(store, SignalNames.WebhookResponseTimeP95Ms, now)!.Value, 9);
    }

    [Fact]
    public void Response_time_p95_in_the_open_bucket_reads_as_the_last_bound_and_in_the_first_from_zero()
    {
        var store = NewStore();
        var now = _clock.Now;
        store.Record(Traffic(now, 10, 0, 0, Buckets((null, 10))));
        store.Record(Traffic(now, 20, 0, 0, Buckets((1, 20)), provider: TelephonyProvider.Telnyx));

        Assert.Equal(5000, Value(store, SignalNames.WebhookResponseTimeP95Ms, now));
        Assert.Equal(0.95, Value(store, SignalNames.WebhookResponseTimeP95Ms, now, "telnyx")!.Value, 9);
    }

    [Fact]
    public void A_traffic_report_whose_histogram_has_other_buckets_still_counts_for_the_error_rate()
    {
        var store = NewStore();
        var now = _clock.Now;
        store.Record(Traffic(now, 9, 0, 1, [1, 2, 3]));

        Assert.Equal(0.1, Value(store, SignalNames.ErrorRate, now));
        Assert.Null(Value(store, SignalNames.WebhookResponseTimeP95Ms, now));
    }

    [Fact]
    public void Audio_signals_are_means_of_the_intervals_and_mos_is_estimated_from_them_not_copied()
    {
        var store = NewStore();
        var now = _clock.Now;
        for (var i = 0; i < 3; i++)
        {
            store.Record(Quality(now, 0.01, 10));
            store.Record(Quality(now, 0.03, 30));
        }

        // The final whole-stream report repeats the intervals: not counted.
        Assert.False(store.Record(Quality(now, 0.9, 500, final: true)));

        Assert.Equal(0.02, Value(store, SignalNames.AudioPacketLoss, now)!.Value, 9);
        Assert.Equal(20, Value(store, SignalNames.AudioJitterMs, now)!.Value, 9);
        var mos = Value(store, SignalNames.AudioMos, now)!.Value;
        Assert.Equal(MosEstimate.Mos(0.02, 20), mos, 9);
        Assert.Equal(3.195, mos, 3);
    }

    [Fact]
    public void The_mos_estimate_uses_the_configured_delay()
    {
        var store = NewStore(o => o.AssumedDelayMilliseconds = 150);
        var now = _clock.Now;
        for (var i = 0; i < 5; i++)
        {
            store.Record(Quality(now, 0, 0));
        }

        Assert.Equal(4.323, Value(store, SignalNames.AudioMos, now)!.Value, 3);
    }

    [Fact]
    public void Provider_health_is_the_latest_state_by_its_time_and_has_no_value_before_any()
    {
        var store = NewStore();
        var now = _clock.Now;
        Assert.Empty(store.Current(SignalNames.ProviderHealth, now));

        store.Record(Health(now.AddSeconds(-10), "healthy"));
        Assert.Equal(1, Value(store, SignalNames.ProviderHealth, now));

        store.Record(Health(now.AddSeconds(-5), "Degraded"));
        Assert.Equal(0.5, Value(store, SignalNames.ProviderHealth, now));

        // An older event arriving late does not undo a newer one.
        Assert.False(store.Record(Health(now.AddSeconds(-8), "healthy")));
        Assert.Equal(0.5, Value(store, SignalNames.ProviderHealth, now));

        // A status we do not know is ignored.
        Assert.False(store.Record(Health(now, "wobbly")));
        Assert.Equal(0.5, Value(store, SignalNames.ProviderHealth, now));

        store.Record(Health(now, "unavailable", TelephonyProvider.Telnyx));
        store.Record(Health(now, "down"));
        Assert.Equal(0, Value(store, SignalNames.ProviderHealth, now));
        Assert.Equal(0, Value(store, SignalNames.ProviderHealth, now, "telnyx"));

        // No window: the state holds until it changes.
        Assert.Equal(0, Value(store, SignalNames.ProviderHealth, now.AddDays(2)));
    }

    [Fact]
    public void Compliance_counts_have_no_value_until_restored_then_count_the_events_in_their_windows()
    {
        var store = NewStore();
        var now = _clock.Now;
        store.Record(Violation(now));
        Assert.Empty(store.Current(SignalNames.ComplianceViolations, now));

        store.Restore([]);
        Assert.Equal(1, Unlabelled(store, SignalNames.ComplianceViolations, now));
        Assert.Equal(0, Unlabelled(store, SignalNames.ComplianceRequestsAtRisk, now));

        var violation = Violation(now);
        Assert.True(store.Record(violation));
        Assert.False(store.Record(violation));
        store.Record(AtRisk(now));
        Assert.Equal(2, Unlabelled(store, SignalNames.ComplianceViolations, now));

        // Violations count for 10 minutes, requests at risk for 24 hours.
        Assert.Equal(2, Unlabelled(store, SignalNames.ComplianceViolations, now.AddMinutes(9)));
        Assert.Equal(0, Unlabelled(store, SignalNames.ComplianceViolations, now.AddMinutes(10)));
        Assert.Equal(1, Unlabelled(store, SignalNames.ComplianceRequestsAtRisk, now.AddHours(23)));
        Assert.Equal(0, Unlabelled(store, SignalNames.ComplianceRequestsAtRisk, now.AddHours(24)));
    }

    [Fact]
    public void An_event_from_the_future_or_from_long_ago_counts_when_it_arrives_and_a_recent_one_at_its_own_time()
    {
        var store = NewStore(o => o.MinEvents[SignalNames.WebhookFailureRate] = 1);
        var now = _clock.Now;

        // 20 s old (within the 30 s lag): counted 20 s ago, so it leaves the window 40 s from now.
        store.Record(Rejected(now.AddSeconds(-20)));
        Assert.Equal(1, Value(store, SignalNames.WebhookFailureRate, now.AddSeconds(39)));
        Assert.Null(Value(store, SignalNames.WebhookFailureRate, now.AddSeconds(40)));

        // A clock an hour ahead, and a backlog two hours old: both counted now, neither lost.
        store.Record(Accepted(now.AddHours(1)));
        store.Record(Rejected(now.AddHours(-2)));
        store.Record(Accepted(now.AddHours(-2)));
        Assert.Equal(1.0 / 3, Value(store, SignalNames.WebhookFailureRate, now.AddSeconds(59))!.Value, 9);
        // Now the window still holds the first one, counted 20 s ago, too.
        Assert.Equal(0.5, Value(store, SignalNames.WebhookFailureRate, now)!.Value, 9);
    }

    [Fact]
    public void An_accepted_webhook_counts_when_ingress_received_it_not_at_the_providers_time_of_the_event()
    {
        var store = NewStore(o => o.MinEvents[SignalNames.WebhookFailureRate] = 1);
        var now = _clock.Now;
        store.Record(Accepted(now, providerTime: now.AddSeconds(-20)));

        Assert.Equal(0, Value(store, SignalNames.WebhookFailureRate, now.AddSeconds(59)));
        Assert.Null(Value(store, SignalNames.WebhookFailureRate, now.AddSeconds(60)));
    }

    [Fact]
    public void A_redelivered_event_counts_once()
    {
        var store = NewStore(o => o.MinEvents[SignalNames.WebhookFailureRate] = 1);
        var now = _clock.Now;
        var rejected = Rejected(now);
        var accepted = Accepted(now);

        Assert.True(store.Record(rejected));
        Assert.False(store.Record(rejected));
        store.Record(accepted);
        store.Record(accepted);

        Assert.Equal(0.5, Value(store, SignalNames.WebhookFailureRate, now));
    }

    [Fact]
    public void Sample_returns_every_series_with_a_value_and_keeps_it_for_recent()
    {
        var store = NewStore();
        store.Restore([]);
        var now = _clock.Now;
        for (var i = 0; i < 5; i++)
        {
            store.Record(Rejected(now));
            store.Record(Accepted(now, TelephonyProvider.Telnyx));
        }

        store.Record(Health(now, "healthy"));

        var samples = store.Sample(now);
        Assert.Equal(
            [
                ("webhook_failure_rate", "{provider=\"telnyx\"}", 0.0),
                ("webhook_failure_rate", "{provider=\"twilio\"}", 1.0),
                ("provider_health", "{provider=\"twilio\"}", 1.0),
                ("compliance_violations", "{}", 0.0),
                ("compliance_requests_at_risk", "{}", 0.0),
            ],
            samples.Select(s => (s.Signal, s.Labels.ToString(), s.Value)));
        Assert.All(samples, s => Assert.Equal(now, s.At));

        store.Sample(now.AddSeconds(1));
        var twilio = LabelSet.Of(("provider", "twilio"));
        Assert.Equal([now, now.AddSeconds(1)], store.Recent(SignalNames.WebhookFailureRate, twilio, 10).Select(s => s.At));
        Assert.Equal(4, store.Recent(SignalNames.WebhookFailureRate, null, 10).Count);
        Assert.Single(store.Recent(SignalNames.WebhookFailureRate, twilio, 1));
        Assert.Empty(store.Recent(SignalNames.WebhookFailureRate, LabelSet.Of(("provider", "unknown")), 10));
    }

    [Fact]
    public void Current_does_not_record_and_an_unknown_signal_has_no_series()
    {
        var store = NewStore();
        var now = _clock.Now;
        for (var i = 0; i < 5; i++)
        {
            store.Record(Rejected(now));
        }

        Assert.Single(store.Current(SignalNames.WebhookFailureRate, now));
        Assert.Empty(store.Recent(SignalNames.WebhookFailureRate, null, 10));
        Assert.Empty(store.Current("no_such_signal", now));
        Assert.IsAssignableFrom<ISignalReader>(store);
    }

    [Fact]
    public void A_series_keeps_its_last_10000_samples()
    {
        var store = NewStore();
        store.Record(Health(_clock.Now, "healthy"));
        var first = _clock.Now;
        for (var i = 0; i < 10_050; i++)
        {
            store.Sample(first.AddSeconds(i));
        }

        var kept = store.Recent(SignalNames.ProviderHealth, null, 20_000);
        Assert.Equal(10_000, kept.Count);
        Assert.Equal(first.AddSeconds(50), kept[0].At);
        Assert.Equal(first.AddSeconds(10_049), kept[^1].At);
    }

    [Fact]
    public async Task Recording_from_many_threads_while_sampling_loses_no_event()
    {
        const int threads = 8;
        const int perThread = 1_000;
        var store = NewStore(o => o.MinEvents[SignalNames.WebhookFailureRate] = threads * perThread);
        var now = _clock.Now;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                store.Sample(now);
                store.Recent(SignalNames.WebhookFailureRate, null, 100);
            }
        });

        await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < perThread; i++)
            {
                if (i % 2 == 0)
                {
                    store.Record(Rejected(now.AddMilliseconds(-i)));
                }
                else
                {
                    store.Record(Accepted(now.AddMilliseconds(-i)));
                }
            }
        })));
        await stop.CancelAsync();
        await sampler;

        // The minimum is every event: a value at all means none was lost, and exactly half of them were rejections.
        Assert.Equal(0.5, Value(store, SignalNames.WebhookFailureRate, now));
    }

    [Fact]
    public void Settings_that_make_no_sense_name_the_key()
    {
        var options = new SignalOptions { DefaultMinEvents = 0 };
        options.Windows["call_drop_rate"] = TimeSpan.FromHours(2);
        options.Windows["provider_health"] = TimeSpan.FromMinutes(1);
        options.Windows["nope"] = TimeSpan.FromMinutes(1);
        options.MinEvents["audio_mos"] = 0;

        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(e => e.ErrorMessage).ToList();

        Assert.Contains(errors, e => e!.StartsWith("Alerting:Signals:Windows:call_drop_rate", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.StartsWith("Alerting:Signals:Windows:provider_health", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.StartsWith("Alerting:Signals:Windows:nope", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.StartsWith("Alerting:Signals:MinEvents:audio_mos", StringComparison.Ordinal));
        Assert.Contains(errors, e => e!.StartsWith("Alerting:Signals:DefaultMinEvents", StringComparison.Ordinal));
        Assert.Empty(new SignalOptions().Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)));
    }
}
