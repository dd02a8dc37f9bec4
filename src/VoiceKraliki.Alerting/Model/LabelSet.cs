using System.Collections;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace VoiceKraliki.Alerting.Model;

/// <summary>
/// An immutable set of labels (name → value), kept sorted by name. An alert's identity is its label set, as in
/// Prometheus and Alertmanager: <see cref="Fingerprint"/> is the same for the same labels, whatever their order.
/// Empty values are dropped, as Prometheus does.
/// </summary>
[JsonConverter(typeof(LabelSetJsonConverter))]
public sealed class LabelSet : IReadOnlyDictionary<string, string>, IEquatable<LabelSet>
{
    private readonly KeyValuePair<string, string>[] _labels;

    private LabelSet(KeyValuePair<string, string>[] sorted)
    {
        _labels = sorted;
        Fingerprint = ComputeFingerprint(sorted);
    }

    public static LabelSet Empty { get; } = new([]);

    /// <summary>16 lowercase hex digits of SHA-256 over the sorted <c>name=value</c> pairs: the alert's id.</summary>
    public string Fingerprint { get; }

    public int Count => _labels.Length;

    public IEnumerable<string> Keys => _labels.Select(l => l.Key);

    public IEnumerable<string> Values => _labels.Select(l => l.Value);

    public string this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException(key);

    public static LabelSet From(IEnumerable<KeyValuePair<string, string>>? labels)
    {
        if (labels is null)
        {
            return Empty;
        }

        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in labels)
        {
            ArgumentException.ThrowIfNullOrEmpty(key);
            if (!string.IsNullOrEmpty(value))
            {
                map[key] = value;
            }
            else
            {
                map.Remove(key);
            }
        }

        return map.Count == 0 ? Empty : new LabelSet([.. map]);
    }

    public static LabelSet Of(params (string Key, string Value)[] labels) =>
        From(labels.Select(l => new KeyValuePair<string, string>(l.Key, l.Value)));

    /// <summary>These labels with <paramref name="other"/>'s on top (its values win).</summary>
    public LabelSet Merge(LabelSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return other.Count == 0 ? this : Count == 0 ? other : From(this.Concat(other));
    }

    public LabelSet With(string key, string value) => From(this.Append(new KeyValuePair<string, string>(key, value)));

    /// <summary>Only the named labels (those present).</summary>
    public LabelSet Only(IEnumerable<string> keys)
    {
        var wanted = keys.ToHashSet(StringComparer.Ordinal);
        return From(this.Where(l => wanted.Contains(l.Key)));
    }

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, out string value)
    {
        var low = 0;
        var high = _labels.Length - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            var order = string.CompareOrdinal(_labels[mid].Key, key);
            if (order == 0)
            {
                value = _labels[mid].Value;
                return true;
            }

            if (order < 0)
            {
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        value = "";
        return false;
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, string>>)_labels).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(LabelSet? other) =>
        other is not null && (ReferenceEquals(this, other) || (Fingerprint == other.Fingerprint && _labels.AsSpan().SequenceEqual(other._labels)));

    public override bool Equals(object? obj) => Equals(obj as LabelSet);

    public override int GetHashCode() => Fingerprint.GetHashCode(StringComparison.Ordinal);

    /// <summary>Prometheus notation: <c>{provider="twilio", severity="high"}</c>.</summary>
    public override string ToString() =>
        "{" + string.Join(", ", _labels.Select(l => $"{l.Key}=\"{l.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"")) + "}";

    private static string ComputeFingerprint(KeyValuePair<string, string>[] sorted)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in sorted)
        {
            text.Append(key).Append('\u00ff').Append(value).Append('\u00ff');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())), 0, 8);
    }

    private sealed class LabelSetJsonConverter : JsonConverter<LabelSet>
    {
        public override LabelSet Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            From(JsonSerializer.Deserialize<Dictionary<string, string>>(ref reader, options));

        public override void Write(Utf8JsonWriter writer, LabelSet value, JsonSerializerOptions options)
        {
            writer.WriteStartObject();
            foreach (var (key, label) in value)
            {
                writer.WriteString(key, label);
            }

            writer.WriteEndObject();
        }
    }
}
