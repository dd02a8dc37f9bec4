using System.Text.RegularExpressions;

namespace VoiceKraliki.Simulator.Faults;

public enum FaultKind
{
    /// <summary>500 in the provider's error shape.</summary>
    ServerError,

    /// <summary>429 in the provider's error shape, with Retry-After.</summary>
    TooManyRequests,

    /// <summary>No answer until the client gives up (or the simulator's hang time passes, then 504).</summary>
    Timeout,
}

/// <summary>
/// A fault on the simulator's provider API. <see cref="PathPattern"/> is matched against the request path,
/// <c>*</c> standing for any run of characters. Applies <see cref="Count"/> times, or until
/// <see cref="Until"/>, or forever when neither is set.
/// </summary>
public sealed record FaultRule
{
    /// <summary><c>twilio</c>, <c>telnyx</c>, or null for both.</summary>
    public string? Provider { get; init; }

    public string PathPattern { get; init; } = "*";

    /// <summary>An HTTP method, or null for any.</summary>
    public string? Method { get; init; }

    public FaultKind Kind { get; init; }

    public int? Count { get; init; }

    public DateTimeOffset? Until { get; init; }

    public int RetryAfterSeconds { get; init; } = 1;
}

/// <summary>The faults in force; set in code or through <c>/_simulator/faults</c>. Thread-safe.</summary>
public sealed class FaultInjector(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly List<Entry> _entries = [];
    private int _nextId;

    /// <returns>The fault's id, for <see cref="Remove"/>.</returns>
    public int Add(FaultRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rule.Count ?? 1, nameof(rule));
        var pattern = new Regex("^" + Regex.Escape(rule.PathPattern).Replace("\\*", ".*", StringComparison.Ordinal) + "$",
            RegexOptions.CultureInvariant | RegexOptions.IgnoreCase, TimeSpan.FromMilliseconds(100));
        lock (_gate)
        {
            var id = ++_nextId;
            _entries.Add(new Entry(id, rule, pattern) { Remaining = rule.Count });
            return id;
        }
    }

    public bool Remove(int id)
    {
        lock (_gate)
        {
            return _entries.RemoveAll(e => e.Id == id) > 0;
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
        }
    }

    public IReadOnlyList<(int Id, FaultRule Rule, int? Remaining)> Active
    {
        get
        {
            lock (_gate)
            {
                return _entries.Select(e => (e.Id, e.Rule, e.Remaining)).ToArray();
            }
        }
    }

    /// <summary>The first fault that applies to this request, consuming one of its uses.</summary>
    public FaultRule? Take(string provider, string method, string path)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            _entries.RemoveAll(e => e.Rule.Until <= now);
            foreach (var entry in _entries)
            {
                if ((entry.Rule.Provider is null || string.Equals(entry.Rule.Provider, provider, StringComparison.OrdinalIgnoreCase))
                    && (entry.Rule.Method is null || string.Equals(entry.Rule.Method, method, StringComparison.OrdinalIgnoreCase))
                    && entry.Pattern.IsMatch(path))
                {
                    if (entry.Remaining is not null && --entry.Remaining == 0)
                    {
                        _entries.Remove(entry);
                    }

                    return entry.Rule;
                }
            }

            return null;
        }
    }

    private sealed class Entry(int id, FaultRule rule, Regex pattern)
    {
        public int Id { get; } = id;

        public FaultRule Rule { get; } = rule;

        public Regex Pattern { get; } = pattern;

        public int? Remaining { get; set; }
    }
}
