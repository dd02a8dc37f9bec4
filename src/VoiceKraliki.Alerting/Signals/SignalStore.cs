using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Alerting.Signals;

/// <summary>
/// A rare event a signal counts, or a provider's health state, as kept in Postgres (<c>signal_events</c>) so that every
/// replica, and a restarted one, sees the same.
/// </summary>
/// <param name="Signal"><see cref="SignalNames.ComplianceViolations"/>, <see cref="SignalNames.ComplianceRequestsAtRisk"/> or <see cref="SignalNames.ProviderHealth"/>.</param>
/// <param name="Provider">The <c>provider</c> label of a health state; null for the compliance counts.</param>
/// <param name="CountedAt">The time the event counts at in windows (its own time, clamped when it arrived; see <see cref="SignalOptions.MaxEventLag"/>).</param>
/// <param name="Value">1 for a counted event; the health (1, 0.5 or 0) for a provider state.</param>
public sealed record DurableSignalEvent(Guid EventId, string Signal, string? Provider, DateTimeOffset OccurredAt, DateTimeOffset CountedAt, double Value);

/// <summary>
/// The live signals: windows of time-bucketed counters fed by the bus (<see cref="SignalEventsConsumer"/>,
/// <see cref="DurableSignalEventsConsumer"/>), the value of every series computed on demand, and the last samples of
/// each series in memory (for the API and the per-minute history in Postgres). Thread-safe: consumers record while the
/// alerting engine samples.
/// </summary>
/// <remarks>
/// Events are bucketed by their own time (<see cref="IIntegrationEvent.OccurredAt"/>), so a window describes when
/// things happened, not when we heard of them; an event from the future (a clock ahead of ours) counts now, and one
/// older than <see cref="SignalOptions.MaxEventLag"/> (a backlog after a broker outage, a clock behind ours) also counts
/// at the time it arrives: counted once, never silently dropped, never in a bucket the window has already left.
/// </remarks>
public sealed class SignalStore : ISignalReader
{
    public const string UnknownProvider = "unknown";

    private const int DedupCapacity = 65_536;
    private const double Percentile = 0.95;

    // Series labels in the order samples are returned.
    private static readonly string[] Providers = ["telnyx", "twilio", UnknownProvider];
    private static readonly Dictionary<string, LabelSet> ProviderLabels =
        Providers.ToDictionary(p => p, p => LabelSet.Of((AlertSnapshot.ProviderLabel, p)), StringComparer.Ordinal);

    private readonly SignalOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<(string Signal, string Provider), SlidingWindow> _windows = new();
    private readonly ConcurrentDictionary<(string Signal, LabelSet Labels), SampleRing> _rings = new();
    private readonly ConcurrentDictionary<Guid, DurableSignalEvent> _counted = new();
    private readonly ConcurrentDictionary<string, DurableSignalEvent> _health = new(StringComparer.Ordinal);
    private readonly RecentIds _seen = new(DedupCapacity);
    private volatile bool _restored;

    public SignalStore(IOptions<SignalOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
    }

    /// <summary>
    /// True once the compliance events and provider states kept in Postgres have been loaded
    /// (<see cref="Restore"/>); until then the compliance counts have no value, rather than a 0 that is not known.
    /// </summary>
    public bool IsRestored => _restored;

    /// <summary>The <c>provider</c> label value of a provider: <c>twilio</c>, <c>telnyx</c>, or <c>unknown</c>.</summary>
    public static string ProviderLabel(TelephonyProvider? provider) => provider switch
    {
        TelephonyProvider.Twilio => "twilio",
        TelephonyProvider.Telnyx => "telnyx",
        _ => UnknownProvider,
    };

    /// <summary>A call that ended counts for the failure rate, and, when it had been answered, for the drop rate.</summary>
    /// <returns>False when the event was seen before or is not the end of a call.</returns>
    public bool Record(CallStateChanged e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Status is not (CallStatus.Completed or CallStatus.Failed) || !_seen.Add(e.EventId))
        {
            return false;
        }

        var provider = ProviderLabel(e.Provider);
        var second = CountedSecond(e.OccurredAt);
        var failed = e.Status == CallStatus.Failed || e.EndReason == CallEndReason.Failed;
        Add(SignalNames.CallFailureRate, provider, second, [failed ? 1 : 0, 1]);
        if (e.PreviousStatus is CallStatus.Answered or CallStatus.OnHold or CallStatus.Transferring)
        {
            var normal = e.Status == CallStatus.Completed
                         && e.EndReason is CallEndReason.Normal or CallEndReason.MachineDetected or CallEndReason.TimeLimit;
            Add(SignalNames.CallDropRate, provider, second, [normal ? 0 : 1, 1]);
        }

        return true;
    }

    /// <summary>
    /// A webhook ingress accepted: the denominator of the webhook failure rate. Counted at the time ingress received it
    /// (the time a rejection carries too), not the provider's time of the call event, which a retried webhook carries
    /// late.
    /// </summary>
    public bool Record(CallEventReceived e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!_seen.Add(e.EventId))
        {
            return false;
        }

        Add(SignalNames.WebhookFailureRate, ProviderLabel(e.Provider), CountedSecond(e.ReceivedAt), [0, 1]);
        return true;
    }

    /// <summary>A webhook ingress refused.</summary>
    public bool Record(WebhookRejected e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!_seen.Add(e.EventId))
        {
            return false;
        }

        Add(SignalNames.WebhookFailureRate, ProviderLabel(e.Provider), CountedSecond(e.OccurredAt), [1, 1]);
        return true;
    }

    /// <summary>
    /// One ingress replica's answers over an interval: the error rate, and the response-time histogram (left out when
    /// its buckets are not ours, i.e. a report from a version with other bounds).
    /// </summary>
    public bool Record(WebhookTrafficReported e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!_seen.Add(e.EventId))
        {
            return false;
        }

        var provider = ProviderLabel(e.Provider);
        var second = CountedSecond(e.OccurredAt);
        var serverErrors = Math.Max(0, e.ServerErrors);
        var total = Math.Max(0, e.Accepted) + Math.Max(0, e.Rejected) + serverErrors;
        if (total > 0)
        {
            Add(SignalNames.ErrorRate, provider, second, [serverErrors, total]);
        }

        if (e.LatencyBucketCounts is { } buckets && buckets.Count == WebhookTrafficReported.LatencyBucketCount && buckets.Any(c => c > 0))
        {
            Span<double> counts = stackalloc double[WebhookTrafficReported.LatencyBucketCount];
            for (var i = 0; i < counts.Length; i++)
            {
                counts[i] = Math.Max(0, buckets[i]);
            }

            Add(SignalNames.WebhookResponseTimeP95Ms, provider, second, counts);
        }

        return true;
    }

    /// <summary>One stream's interval of audio quality; a final (whole-stream) report is not counted.</summary>
    public bool Record(MediaQualityReported e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Final || double.IsNaN(e.PacketLossRatio) || double.IsNaN(e.JitterMilliseconds) || !_seen.Add(e.EventId))
        {
            return false;
        }

        var provider = ProviderLabel(e.Provider);
        var second = CountedSecond(e.OccurredAt);
        ReadOnlySpan<double> amounts = [1, Math.Clamp(e.PacketLossRatio, 0, 1), Math.Max(0, e.JitterMilliseconds)];
        Add(SignalNames.AudioPacketLoss, provider, second, amounts);
        Add(SignalNames.AudioJitterMs, provider, second, amounts);
        Add(SignalNames.AudioMos, provider, second, amounts);
        return true;
    }

    /// <summary>A provider's health changed; false when the status is not one we know or a later one is already held.</summary>
    public bool Record(ProviderHealthChanged e) => ToDurable(e) is { } durable && Record(durable);

    public bool Record(ComplianceViolationDetected e) => Record(ToDurable(e));

    public bool Record(DataSubjectRequestEndangered e) => Record(ToDurable(e));

    /// <summary>Counts a compliance event (once per event id) or takes a provider state if it is later than the one held.</summary>
    public bool Record(DurableSignalEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (e.Signal == SignalNames.ProviderHealth)
        {
            var provider = e.Provider ?? UnknownProvider;
            var held = _health.AddOrUpdate(provider, e, (_, old) => IsLater(e, old) ? e : old);
            return ReferenceEquals(held, e);
        }

        if (!SignalNames.Counted.Contains(e.Signal) || e.CountedAt <= _time.GetUtcNow() - _options.WindowOf(e.Signal))
        {
            return false;
        }

        return _counted.TryAdd(e.EventId, e);
    }

    /// <summary>
    /// Takes the events kept in Postgres (those this replica has not seen yet are added, see <see cref="Record(DurableSignalEvent)"/>)
    /// and marks the store restored.
    /// </summary>
    public void Restore(IEnumerable<DurableSignalEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        foreach (var e in events)
        {
            Record(e);
        }

        _restored = true;
    }

    /// <summary>The health state a <see cref="ProviderHealthChanged"/> sets, or null when its status is not one we know.</summary>
    public DurableSignalEvent? ToDurable(ProviderHealthChanged e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return HealthValue(e.Status) is { } value
            ? new DurableSignalEvent(e.EventId, SignalNames.ProviderHealth, ProviderLabel(e.Provider), e.OccurredAt, CountedAt(e.OccurredAt), value)
            : null;
    }

    public DurableSignalEvent ToDurable(ComplianceViolationDetected e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new DurableSignalEvent(e.EventId, SignalNames.ComplianceViolations, null, e.OccurredAt, CountedAt(e.OccurredAt), 1);
    }

    public DurableSignalEvent ToDurable(DataSubjectRequestEndangered e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new DurableSignalEvent(e.EventId, SignalNames.ComplianceRequestsAtRisk, null, e.OccurredAt, CountedAt(e.OccurredAt), 1);
    }

    /// <summary>healthy 1, degraded 0.5, unavailable / down / unhealthy 0 (any case); null for anything else.</summary>
    public static double? HealthValue(string? status) => status?.Trim().ToLowerInvariant() switch
    {
        "healthy" => 1,
        "degraded" => 0.5,
        "unavailable" or "down" or "unhealthy" => 0,
        _ => null,
    };

    /// <summary>
    /// The value of every series that has one at <paramref name="now"/>, each also appended to its series' samples in
    /// memory (the last <see cref="SignalOptions.SamplesPerSeries"/>). Called by the alerting engine every evaluation.
    /// </summary>
    public IReadOnlyList<SignalSample> Sample(DateTimeOffset now)
    {
        var samples = Compute(now, null);
        foreach (var sample in samples)
        {
            _rings.GetOrAdd((sample.Signal, sample.Labels), key => new SampleRing(key.Signal, key.Labels, _options.SamplesPerSeries))
                .Append(sample.At, sample.Value);
        }

        ForgetExpired(now);
        return samples;
    }

    /// <inheritdoc />
    public IReadOnlyList<SignalSample> Current(string signal, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(signal);
        return SignalNames.IsKnown(signal) ? Compute(now, signal) : [];
    }

    /// <summary>
    /// The last <paramref name="max"/> samples (oldest first) of each series of <paramref name="signal"/> whose labels
    /// include <paramref name="labels"/> (all of them when null), series by series.
    /// </summary>
    public IReadOnlyList<SignalSample> Recent(string signal, LabelSet? labels, int max)
    {
        ArgumentNullException.ThrowIfNull(signal);
        var samples = new List<SignalSample>();
        foreach (var ring in Rings(signal, labels))
        {
            samples.AddRange(ring.Latest(max));
        }

        return samples;
    }

    /// <summary>Every series sampled so far, for the history writer.</summary>
    internal IReadOnlyList<SampleRing> Rings(string? signal = null, LabelSet? labels = null) =>
    [
        .. _rings.Values
            .Where(r => (signal is null || r.Signal == signal) && (labels is null || labels.All(l => r.Labels.TryGetValue(l.Key, out var v) && v == l.Value)))
            .OrderBy(r => r.Signal, StringComparer.Ordinal)
            .ThenBy(r => r.Labels.ToString(), StringComparer.Ordinal),
    ];

    private List<SignalSample> Compute(DateTimeOffset now, string? only)
    {
        var samples = new List<SignalSample>();
        var nowSecond = now.ToUnixTimeSeconds();
        foreach (var signal in SignalNames.All)
        {
            if (only is not null && signal != only)
            {
                continue;
            }

            if (signal == SignalNames.ProviderHealth)
            {
                foreach (var provider in Providers)
                {
                    if (_health.TryGetValue(provider, out var state))
                    {
                        samples.Add(new SignalSample(signal, ProviderLabels[provider], now, state.Value));
                    }
                }
            }
            else if (SignalNames.Counted.Contains(signal))
            {
                if (_restored)
                {
                    var from = now - _options.WindowOf(signal);
                    var count = _counted.Values.Count(e => e.Signal == signal && e.CountedAt > from && e.CountedAt <= now);
                    samples.Add(new SignalSample(signal, LabelSet.Empty, now, count));
                }
            }
            else
            {
                foreach (var provider in Providers)
                {
                    if (_windows.TryGetValue((signal, provider), out var window) && Value(signal, window, nowSecond) is { } value)
                    {
                        samples.Add(new SignalSample(signal, ProviderLabels[provider], now, value));
                    }
                }
            }
        }

        return samples;
    }

    private double? Value(string signal, SlidingWindow window, long nowSecond)
    {
        Span<double> sums = stackalloc double[window.Fields];
        window.Sum(nowSecond, sums);
        var minEvents = _options.MinEventsOf(signal);
        switch (signal)
        {
            case SignalNames.WebhookResponseTimeP95Ms:
                var total = 0d;
                foreach (var count in sums)
                {
                    total += count;
                }

                return total >= minEvents ? Quantile(Percentile, sums, total) : null;

            case SignalNames.AudioPacketLoss or SignalNames.AudioJitterMs or SignalNames.AudioMos:
                var intervals = sums[0];
                if (intervals < minEvents || intervals <= 0)
                {
                    return null;
                }

                var loss = sums[1] / intervals;
                var jitter = sums[2] / intervals;
                return signal switch
                {
                    SignalNames.AudioPacketLoss => loss,
                    SignalNames.AudioJitterMs => jitter,
                    _ => MosEstimate.Mos(loss, jitter, _options.AssumedDelayMilliseconds),
                };

            default:
                // A rate: numerator / denominator.
                return sums[1] >= minEvents && sums[1] > 0 ? sums[0] / sums[1] : null;
        }
    }

    /// <summary>
    /// The <paramref name="q"/>-quantile of a histogram with <see cref="WebhookTrafficReported.LatencyBucketBoundsMs"/>,
    /// interpolated linearly inside its bucket (from 0 for the first); the last finite bound when it is in the +∞ bucket.
    /// </summary>
    internal static double Quantile(double q, ReadOnlySpan<double> counts, double total)
    {
        var bounds = WebhookTrafficReported.LatencyBucketBoundsMs;
        var rank = q * total;
        var below = 0d;
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] > 0 && below + counts[i] >= rank)
            {
                if (i >= bounds.Count)
                {
                    return bounds[^1];
                }

                var lower = i == 0 ? 0 : bounds[i - 1];
                return lower + ((bounds[i] - lower) * (rank - below) / counts[i]);
            }

            below += counts[i];
        }

        return bounds[^1];
    }

    private void Add(string signal, string provider, long second, ReadOnlySpan<double> amounts) =>
        _windows.GetOrAdd((signal, provider), key => new SlidingWindow(_options.WindowOf(key.Signal), FieldsOf(key.Signal)))
            .Add(second, amounts);

    private static int FieldsOf(string signal) => signal switch
    {
        SignalNames.WebhookResponseTimeP95Ms => WebhookTrafficReported.LatencyBucketCount,
        SignalNames.AudioPacketLoss or SignalNames.AudioJitterMs or SignalNames.AudioMos => 3,
        _ => 2,
    };

    private DateTimeOffset CountedAt(DateTimeOffset occurredAt)
    {
        var now = _time.GetUtcNow();
        return occurredAt > now || occurredAt < now - _options.MaxEventLag ? now : occurredAt;
    }

    private long CountedSecond(DateTimeOffset occurredAt) => CountedAt(occurredAt).ToUnixTimeSeconds();

    private static bool IsLater(DurableSignalEvent candidate, DurableSignalEvent held) =>
        candidate.OccurredAt > held.OccurredAt || (candidate.OccurredAt == held.OccurredAt && candidate.EventId.CompareTo(held.EventId) > 0);

    private void ForgetExpired(DateTimeOffset now)
    {
        foreach (var (id, e) in _counted)
        {
            if (e.CountedAt <= now - _options.WindowOf(e.Signal))
            {
                _counted.TryRemove(id, out _);
            }
        }
    }

    /// <summary>The ids of the last events seen, to count a redelivered event once; bounded, the oldest forgotten first.</summary>
    private sealed class RecentIds(int capacity)
    {
        private readonly HashSet<Guid> _ids = new(capacity);
        private readonly Queue<Guid> _order = new(capacity);
        private readonly Lock _lock = new();

        public bool Add(Guid id)
        {
            lock (_lock)
            {
                if (!_ids.Add(id))
                {
                    return false;
                }

                _order.Enqueue(id);
                if (_order.Count > capacity)
                {
                    _ids.Remove(_order.Dequeue());
                }

                return true;
            }
        }
    }
}
