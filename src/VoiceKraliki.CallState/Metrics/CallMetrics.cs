using System.Diagnostics.Metrics;
using VoiceKraliki.CallState.Calls;
using VoiceKraliki.CallState.Events;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Metrics;

/// <summary>
/// call-state's metrics on <c>/metrics</c> (docs/call-state-api.md says exactly what each counts). Instruments are
/// named without the suffixes our Prometheus exposition adds: <c>_total</c> for a counter, <c>_seconds</c> for unit
/// <c>s</c>.
/// </summary>
public sealed class CallMetrics : ICallCommitObserver
{
    public const string MeterName = "VoiceKraliki.CallState";

    private readonly Counter<long> _transitions;
    private readonly Histogram<double> _duration;
    private readonly Histogram<double> _setup;
    private readonly Histogram<double> _applyLatency;
    private readonly Counter<long> _stuck;

    /// <summary>The live calls per provider as last counted, or null before the first count.</summary>
    private volatile IReadOnlyDictionary<TelephonyProvider, long>? _live;

    public CallMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _transitions = meter.CreateCounter<long>("telephony_calls", unit: "{transition}",
            description: "Applied call state transitions, by the state entered (a call's first state included), provider and direction.");
        _duration = meter.CreateHistogram<double>("telephony_call_duration", unit: "s",
            description: "Talk time of answered calls that ended: answered_at to ended_at (provider times), recorded when the call ends.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400] });
        _setup = meter.CreateHistogram<double>("telephony_call_setup", unit: "s",
            description: "From created_at (call-state received the call's first event) to answered_at (provider time of the answer), recorded when a known call is first answered.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1, 2, 3, 5, 8, 10, 15, 20, 30, 45, 60, 90, 120] });
        _applyLatency = meter.CreateHistogram<double>("telephony_call_event_apply_latency", unit: "s",
            description: "From the provider's time of a call event to the commit of its decision (applied or ignored; duplicates are not counted).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        _stuck = meter.CreateCounter<long>("telephony_calls_stuck", unit: "{call}",
            description: "Calls flagged as stuck: no update for longer than their state's timeout. A call is counted once per state it gets stuck in.");
        meter.CreateObservableGauge("telephony_calls_active", ObserveLive, unit: "{call}",
            description: "Live calls (not completed or failed) of all replicas, from the Redis fast tier or Postgres; aggregate with max, not sum.");
    }

    public Task CallCommittedAsync(CallCommitted committed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(committed);
        var decision = committed.Decision;
        var call = decision.Next;
        var provider = Tag("provider", call.Provider);

        // Clocks differ (provider, ingress, ours); a negative span is skew, not a measurement.
        _applyLatency.Record(Math.Max(0, (committed.CommittedAt - committed.Event.OccurredAt).TotalSeconds), provider);
        if (decision.Outcome != TransitionOutcome.Applied)
        {
            return Task.CompletedTask;
        }

        _transitions.Add(1, provider, Tag("status", decision.To), Tag("direction", call.Direction));

        // The first answer of a call that was known before it (a call created by its answer has no setup to time).
        if (decision.From is CallStatus.Initiated or CallStatus.Ringing
            && decision.To is CallStatus.Answered or CallStatus.OnHold or CallStatus.Transferring
            && call.AnsweredAt is { } answered
            && answered >= call.CreatedAt)
        {
            _setup.Record((answered - call.CreatedAt).TotalSeconds, provider);
        }

        if (CallStateMachine.IsTerminal(decision.To) && call.AnsweredAt is { } start && call.EndedAt is { } end && end >= start)
        {
            _duration.Record((end - start).TotalSeconds, provider);
        }

        return Task.CompletedTask;
    }

    public void CallStuck(TelephonyProvider provider) => _stuck.Add(1, Tag("provider", provider));

    /// <summary>The latest count of live calls, per provider.</summary>
    public void SetLiveCalls(IReadOnlyDictionary<TelephonyProvider, long> live) => _live = live;

    private IEnumerable<Measurement<long>> ObserveLive()
    {
        var live = _live;
        if (live is null)
        {
            return [];
        }

        return live.Select(p => new Measurement<long>(p.Value, Tag("provider", p.Key)));
    }

    /// <summary>Labels carry the stored (snake_case) names: <c>twilio</c>, <c>on_hold</c>, <c>inbound</c>.</summary>
    private static KeyValuePair<string, object?> Tag<TEnum>(string name, TEnum value) where TEnum : struct, Enum =>
        new(name, DbEnum<TEnum>.ToDb(value));
}
