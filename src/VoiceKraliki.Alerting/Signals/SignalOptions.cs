using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace VoiceKraliki.Alerting.Signals;

/// <summary>How signals are computed and kept, bound from <c>Signals</c>.</summary>
public sealed class SignalOptions : IValidatableObject
{
    public const string SectionName = "Alerting:Signals";

    private static readonly TimeSpan MaxBucketedWindow = TimeSpan.FromHours(1);

    /// <summary>
    /// The window of a signal by name (e.g. <c>Alerting:Signals:Windows:call_drop_rate = 00:02:00</c>); a signal not named keeps
    /// its default (<see cref="SignalNames"/>). Rates and means: 1 s to 1 h, in whole seconds; compliance counts: 1 min
    /// to 7 days. <c>provider_health</c> has none.
    /// </summary>
    public Dictionary<string, TimeSpan> Windows { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The least events a rate's or a mean's window must hold to have a value, by signal name.</summary>
    public Dictionary<string, int> MinEvents { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The least events for the signals not named in <see cref="MinEvents"/>.</summary>
    public int DefaultMinEvents { get; set; } = 5;

    /// <summary>
    /// An event is counted at its own time when that is at most this far in the past; one from further back (a backlog
    /// after a broker outage, a provider clock behind ours) or from the future is counted at the time it arrives.
    /// </summary>
    public TimeSpan MaxEventLag { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The samples kept in memory per series (the last ones; about 2.8 h at one sample a second).</summary>
    public int SamplesPerSeries { get; set; } = 10_000;

    /// <summary>
    /// The one-way network delay the MOS estimate assumes, in milliseconds: it cannot be seen on the media stream, so by
    /// default none (the score is then an upper bound).
    /// </summary>
    public double AssumedDelayMilliseconds { get; set; }

    /// <summary>How often every replica reloads the compliance events and provider states kept in Postgres.</summary>
    public TimeSpan DurableRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long per-minute history is kept in Postgres.</summary>
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How far back the history writer fills minutes it could not write (Postgres down), from what is still in memory.</summary>
    public TimeSpan HistoryCatchUp { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan WindowOf(string signal) =>
        Windows.FirstOrDefault(w => string.Equals(w.Key, signal, StringComparison.OrdinalIgnoreCase)) is { Key: not null } configured
            ? configured.Value
            : SignalNames.DefaultWindow(signal);

    public int MinEventsOf(string signal) =>
        MinEvents.FirstOrDefault(m => string.Equals(m.Key, signal, StringComparison.OrdinalIgnoreCase)) is { Key: not null } configured
            ? configured.Value
            : DefaultMinEvents;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (signal, window) in Windows)
        {
            var key = $"{SectionName}:{nameof(Windows)}:{signal}";
            if (!SignalNames.IsKnown(signal))
            {
                yield return new ValidationResult($"{key} is not a signal (known: {string.Join(", ", SignalNames.All)}).", [nameof(Windows)]);
            }
            else if (signal == SignalNames.ProviderHealth)
            {
                yield return new ValidationResult($"{key}: provider_health has no window (it is the latest state).", [nameof(Windows)]);
            }
            else if (SignalNames.Counted.Contains(signal))
            {
                if (window < TimeSpan.FromMinutes(1) || window > TimeSpan.FromDays(7))
                {
                    yield return new ValidationResult($"{key} must be between 00:01:00 and 7.00:00:00.", [nameof(Windows)]);
                }
            }
            else if (window < TimeSpan.FromSeconds(1) || window > MaxBucketedWindow || window.Ticks % TimeSpan.TicksPerSecond != 0)
            {
                yield return new ValidationResult($"{key} must be whole seconds between 00:00:01 and 01:00:00.", [nameof(Windows)]);
            }
        }

        foreach (var (signal, min) in MinEvents)
        {
            var key = $"{SectionName}:{nameof(MinEvents)}:{signal}";
            if (!SignalNames.IsKnown(signal))
            {
                yield return new ValidationResult($"{key} is not a signal (known: {string.Join(", ", SignalNames.All)}).", [nameof(MinEvents)]);
            }
            else if (min is < 1 or > 1_000_000)
            {
                yield return new ValidationResult($"{key} must be between 1 and 1000000.", [nameof(MinEvents)]);
            }
        }

        if (DefaultMinEvents is < 1 or > 1_000_000)
        {
            yield return Invalid(nameof(DefaultMinEvents), "must be between 1 and 1000000");
        }

        if (MaxEventLag < TimeSpan.Zero || MaxEventLag > TimeSpan.FromMinutes(10))
        {
            yield return Invalid(nameof(MaxEventLag), "must be between 00:00:00 and 00:10:00");
        }

        if (SamplesPerSeries is < 100 or > 1_000_000)
        {
            yield return Invalid(nameof(SamplesPerSeries), "must be between 100 and 1000000");
        }

        if (double.IsNaN(AssumedDelayMilliseconds) || AssumedDelayMilliseconds is < 0 or > 2000)
        {
            yield return Invalid(nameof(AssumedDelayMilliseconds), "must be between 0 and 2000");
        }

        if (DurableRefreshInterval < TimeSpan.FromMilliseconds(100) || DurableRefreshInterval > TimeSpan.FromMinutes(5))
        {
            yield return Invalid(nameof(DurableRefreshInterval), "must be between 00:00:00.1 and 00:05:00");
        }

        if (HistoryRetention < TimeSpan.FromHours(1) || HistoryRetention > TimeSpan.FromDays(400))
        {
            yield return Invalid(nameof(HistoryRetention), "must be between 01:00:00 and 400.00:00:00");
        }

        if (HistoryCatchUp < TimeSpan.FromMinutes(1) || HistoryCatchUp > TimeSpan.FromDays(1))
        {
            yield return Invalid(nameof(HistoryCatchUp), "must be between 00:01:00 and 1.00:00:00");
        }
    }

    private static ValidationResult Invalid(string property, string rule) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{SectionName}:{property} {rule}."), [property]);
}
