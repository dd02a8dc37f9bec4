using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace VoiceKraliki.ServiceDefaults.Tests.Metrics;

/// <summary>
/// A strict parser of the Prometheus text exposition format 0.0.4. It rejects everything the format
/// rejects, and a little more that a well-behaved exporter never writes: blank lines, whitespace
/// other than single spaces, samples without a preceding TYPE, families split into several blocks,
/// duplicate series, reserved <c>__</c> label names, counters not named <c>*_total</c>, and
/// histograms whose buckets are not ascending and cumulative or whose <c>+Inf</c> bucket differs
/// from <c>_count</c>.
/// </summary>
public static partial class PrometheusTextParser
{
    private static readonly string[] Types = ["counter", "gauge", "histogram", "summary", "untyped"];

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricNameGrammar();

    [GeneratedRegex(@"^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelNameGrammar();

    [GeneratedRegex(@"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")]
    private static partial Regex FloatGrammar();

    [GeneratedRegex(@"^-?[0-9]+$")]
    private static partial Regex TimestampGrammar();

    public static PrometheusDocument Parse(string text)
    {
        var parser = new State();
        if (text.Length == 0)
        {
            return parser.Finish(0);
        }

        if (!text.EndsWith('\n'))
        {
            throw new PrometheusFormatException(0, "the exposition must end with a line feed");
        }

        var lines = text[..^1].Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            parser.Line(i + 1, lines[i]);
        }

        return parser.Finish(lines.Length);
    }

    /// <summary>Parses a float the way the format spells it, <c>+Inf</c>, <c>-Inf</c> and <c>NaN</c> included.</summary>
    public static double ParseValue(string token, int line) => token switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ when FloatGrammar().IsMatch(token) => double.Parse(token, NumberStyles.Float, CultureInfo.InvariantCulture),
        _ => throw new PrometheusFormatException(line, $"'{token}' is not a valid sample value"),
    };

    private sealed class State
    {
        private readonly Dictionary<string, PrometheusFamily> _families = new(StringComparer.Ordinal);
        private readonly List<string> _order = [];
        private readonly Dictionary<string, string> _sampleNameOwners = new(StringComparer.Ordinal);
        private readonly HashSet<string> _series = new(StringComparer.Ordinal);
        private PrometheusFamily? _current;

        public void Line(int line, string text)
        {
            if (text.Length == 0)
            {
                throw new PrometheusFormatException(line, "blank line");
            }

            if (text.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                Help(line, text["# HELP ".Length..]);
            }
            else if (text.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                Type(line, text["# TYPE ".Length..]);
            }
            else if (text.StartsWith('#'))
            {
                if (text.StartsWith("#HELP", StringComparison.Ordinal) || text.StartsWith("#TYPE", StringComparison.Ordinal)
                    || text.StartsWith("# HELP", StringComparison.Ordinal) || text.StartsWith("# TYPE", StringComparison.Ordinal))
                {
                    throw new PrometheusFormatException(line, "malformed HELP or TYPE line");
                }

                // Any other comment is allowed by the format and means nothing.
            }
            else
            {
                Sample(line, text);
            }
        }

        private void Help(int line, string rest)
        {
            var space = rest.IndexOf(' ');
            var name = space < 0 ? rest : rest[..space];
            var family = Enter(line, name);
            if (family.Help is not null)
            {
                throw new PrometheusFormatException(line, $"second HELP for {name}");
            }

            family.Help = space < 0 ? string.Empty : UnescapeHelp(line, rest[(space + 1)..]);
        }

        private void Type(int line, string rest)
        {
            var space = rest.IndexOf(' ');
            if (space < 0)
            {
                throw new PrometheusFormatException(line, "TYPE without a type");
            }

            var name = rest[..space];
            var type = rest[(space + 1)..];
            if (!Types.Contains(type))
            {
                throw new PrometheusFormatException(line, $"unknown type '{type}'");
            }

            var family = Enter(line, name);
            if (family.Type is not null)
            {
                throw new PrometheusFormatException(line, $"second TYPE for {name}");
            }

            if (type == "counter" && !name.EndsWith("_total", StringComparison.Ordinal))
            {
                throw new PrometheusFormatException(line, $"counter {name} does not end in _total");
            }

            family.Type = type;
            foreach (var sampleName in SampleNames(name, type))
            {
                if (_sampleNameOwners.TryGetValue(sampleName, out var owner) && owner != name)
                {
                    throw new PrometheusFormatException(line, $"samples named {sampleName} would belong to both {owner} and {name}");
                }

                _sampleNameOwners[sampleName] = name;
            }
        }

        private PrometheusFamily Enter(int line, string name)
        {
            RequireMetricName(line, name);
            if (_current?.Name == name)
            {
                if (_current.Samples.Count > 0)
                {
                    throw new PrometheusFormatException(line, $"HELP or TYPE for {name} after its samples");
                }

                return _current;
            }

            if (_families.ContainsKey(name))
            {
                throw new PrometheusFormatException(line, $"family {name} appears again after other families: its lines are not contiguous");
            }

            if (_current is not null)
            {
                Close(line, _current);
            }

            _current = new PrometheusFamily(name);
            _families.Add(name, _current);
            _order.Add(name);
            return _current;
        }

        private void Sample(int line, string text)
        {
            var position = 0;
            while (position < text.Length && text[position] is not ('{' or ' '))
            {
                position++;
            }

            var name = text[..position];
            RequireMetricName(line, name);

            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (position < text.Length && text[position] == '{')
            {
                position = ParseLabels(line, text, position + 1, labels);
            }

            if (position >= text.Length || text[position] != ' ')
            {
                throw new PrometheusFormatException(line, "expected a single space before the value");
            }

            var tokens = text[(position + 1)..].Split(' ');
            if (tokens.Length is < 1 or > 2 || tokens.Any(t => t.Length == 0))
            {
                throw new PrometheusFormatException(line, "expected 'value' or 'value timestamp' separated by single spaces");
            }

            var raw = tokens[0];
            var value = ParseValue(raw, line);
            if (tokens.Length == 2 && !TimestampGrammar().IsMatch(tokens[1]))
            {
                throw new PrometheusFormatException(line, $"'{tokens[1]}' is not a valid timestamp");
            }

            var family = _current;
            if (family is null || !_sampleNameOwners.TryGetValue(name, out var owner) || owner != family.Name)
            {
                var known = _sampleNameOwners.TryGetValue(name, out var other) ? other : null;
                throw new PrometheusFormatException(line, known is null
                    ? $"sample {name} has no preceding TYPE"
                    : $"sample {name} of family {known} appears outside its family's block");
            }

            var seriesKey = name + "{" + string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)) + "}";
            if (!_series.Add(seriesKey))
            {
                throw new PrometheusFormatException(line, $"duplicate series {seriesKey}");
            }

            switch (family.Type)
            {
                case "counter" when double.IsNaN(value) || value < 0:
                    throw new PrometheusFormatException(line, $"counter {name} has value {raw}");
                case "histogram":
                    CheckHistogramSample(line, family.Name, name, labels, value);
                    break;
            }

            family.Samples.Add(new PrometheusSample(name, labels, value, raw, line));
        }

        private static void CheckHistogramSample(int line, string family, string name, Dictionary<string, string> labels, double value)
        {
            if (name == family + "_bucket")
            {
                if (!labels.TryGetValue("le", out var le))
                {
                    throw new PrometheusFormatException(line, "histogram bucket without an le label");
                }

                var bound = ParseValue(le, line);
                if (double.IsNaN(bound))
                {
                    throw new PrometheusFormatException(line, "histogram bucket with le=\"NaN\"");
                }
            }
            else if (labels.ContainsKey("le"))
            {
                throw new PrometheusFormatException(line, $"{name} must not have an le label");
            }

            if (name != family + "_sum" && (double.IsNaN(value) || value < 0 || value != Math.Floor(value)))
            {
                throw new PrometheusFormatException(line, $"{name} must be a non-negative whole count");
            }
        }

        /// <summary>Checks a finished family as a whole: every histogram series is complete and cumulative.</summary>
        private static void Close(int line, PrometheusFamily family)
        {
            if (family.Type is null)
            {
                throw new PrometheusFormatException(line, $"family {family.Name} has a HELP but no TYPE");
            }

            if (family.Type != "histogram")
            {
                return;
            }

            foreach (var series in family.Samples.GroupBy(s => SeriesKey(s.Labels), StringComparer.Ordinal))
            {
                var buckets = series.Where(s => s.Name == family.Name + "_bucket").ToList();
                var sum = series.Where(s => s.Name == family.Name + "_sum").ToList();
                var count = series.Where(s => s.Name == family.Name + "_count").ToList();
                var where = $"histogram {family.Name}{{{series.Key}}}";
                if (buckets.Count == 0)
                {
                    throw new PrometheusFormatException(series.First().Line, $"{where} has no buckets");
                }

                if (sum.Count != 1 || count.Count != 1)
                {
                    throw new PrometheusFormatException(series.First().Line, $"{where} needs exactly one _sum and one _count");
                }

                for (var i = 1; i < buckets.Count; i++)
                {
                    var previous = buckets[i - 1];
                    var bucket = buckets[i];
                    if (!(ParseValue(bucket.Labels["le"], bucket.Line) > ParseValue(previous.Labels["le"], previous.Line)))
                    {
                        throw new PrometheusFormatException(bucket.Line, $"{where}: le=\"{bucket.Labels["le"]}\" does not ascend");
                    }

                    if (bucket.Value < previous.Value)
                    {
                        throw new PrometheusFormatException(bucket.Line, $"{where}: bucket counts are not cumulative");
                    }
                }

                var last = buckets[^1];
                if (last.Labels["le"] != "+Inf")
                {
                    throw new PrometheusFormatException(last.Line, $"{where} has no le=\"+Inf\" bucket last");
                }

                if (last.Value != count[0].Value)
                {
                    throw new PrometheusFormatException(count[0].Line, $"{where}: +Inf bucket {last.RawValue} differs from _count {count[0].RawValue}");
                }
            }
        }

        public PrometheusDocument Finish(int lastLine)
        {
            if (_current is not null)
            {
                Close(lastLine, _current);
            }

            return new PrometheusDocument(_order.Select(n => _families[n]).ToList());
        }

        private static IEnumerable<string> SampleNames(string name, string type) => type switch
        {
            "histogram" => [name + "_bucket", name + "_sum", name + "_count"],
            "summary" => [name, name + "_sum", name + "_count"],
            _ => [name],
        };

        private static string SeriesKey(IReadOnlyDictionary<string, string> labels) =>
            string.Join(",", labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\""));

        private static void RequireMetricName(int line, string name)
        {
            if (!MetricNameGrammar().IsMatch(name))
            {
                throw new PrometheusFormatException(line, $"'{name}' is not a valid metric name");
            }
        }

        /// <summary>Parses <c>name="value",…}</c> from just after the brace; returns the index after the closing brace.</summary>
        private static int ParseLabels(int line, string text, int position, Dictionary<string, string> labels)
        {
            while (true)
            {
                if (position >= text.Length)
                {
                    throw new PrometheusFormatException(line, "unterminated label set");
                }

                if (text[position] == '}')
                {
                    return position + 1;
                }

                var equals = text.IndexOf('=', position);
                if (equals < 0)
                {
                    throw new PrometheusFormatException(line, "label without '='");
                }

                var name = text[position..equals];
                if (!LabelNameGrammar().IsMatch(name))
                {
                    throw new PrometheusFormatException(line, $"'{name}' is not a valid label name");
                }

                if (name.StartsWith("__", StringComparison.Ordinal))
                {
                    throw new PrometheusFormatException(line, $"label name {name} is reserved");
                }

                if (equals + 1 >= text.Length || text[equals + 1] != '"')
                {
                    throw new PrometheusFormatException(line, $"value of label {name} is not quoted");
                }

                var value = new StringBuilder();
                position = equals + 2;
                while (true)
                {
                    if (position >= text.Length)
                    {
                        throw new PrometheusFormatException(line, $"unterminated value of label {name}");
                    }

                    var c = text[position++];
                    if (c == '"')
                    {
                        break;
                    }

                    if (c == '\\')
                    {
                        if (position >= text.Length)
                        {
                            throw new PrometheusFormatException(line, $"unterminated escape in label {name}");
                        }

                        value.Append(text[position++] switch
                        {
                            '\\' => '\\',
                            '"' => '"',
                            'n' => '\n',
                            var other => throw new PrometheusFormatException(line, $"invalid escape '\\{other}' in label {name}"),
                        });
                        continue;
                    }

                    value.Append(c);
                }

                if (!labels.TryAdd(name, value.ToString()))
                {
                    throw new PrometheusFormatException(line, $"label {name} appears twice");
                }

                if (position >= text.Length)
                {
                    throw new PrometheusFormatException(line, "unterminated label set");
                }

                if (text[position] == ',')
                {
                    position++;
                }
                else if (text[position] != '}')
                {
                    throw new PrometheusFormatException(line, $"expected ',' or '}}' after label {name}");
                }
            }
        }

        private static string UnescapeHelp(int line, string text)
        {
            var result = new StringBuilder(text.Length);
            for (var i = 0; i < text.Length; i++)
            {
                if (text[i] != '\\')
                {
                    result.Append(text[i]);
                    continue;
                }

                if (++i >= text.Length)
                {
                    throw new PrometheusFormatException(line, "HELP ends in a lone backslash");
                }

                result.Append(text[i] switch
                {
                    '\\' => '\\',
                    'n' => '\n',
                    var other => throw new PrometheusFormatException(line, $"invalid escape '\\{other}' in HELP"),
                });
            }

            return result.ToString();
        }
    }
}

public sealed class PrometheusFormatException(int line, string message)
    : Exception(line > 0 ? $"line {line}: {message}" : message)
{
    public int Line { get; } = line;
}

public sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value, string RawValue, int Line);

public sealed record HistogramSeries(IReadOnlyList<(double Le, double Count)> Buckets, double Sum, double Count);

public sealed class PrometheusFamily(string name)
{
    public string Name { get; } = name;

    public string? Type { get; internal set; }

    public string? Help { get; internal set; }

    public List<PrometheusSample> Samples { get; } = [];

    /// <summary>The samples named <paramref name="sampleName"/> (the family's name by default) whose labels include all of <paramref name="labels"/>.</summary>
    public IEnumerable<PrometheusSample> Matching(string? sampleName, params (string Name, string Value)[] labels) =>
        Samples.Where(s => s.Name == (sampleName ?? Name)
            && labels.All(l => s.Labels.TryGetValue(l.Name, out var v) && v == l.Value));

    /// <summary>The one sample of this family whose labels include all of <paramref name="labels"/>.</summary>
    public PrometheusSample Single(params (string Name, string Value)[] labels) => Assert.Single(Matching(null, labels));

    public double Value(params (string Name, string Value)[] labels) => Single(labels).Value;

    /// <summary>The one histogram series whose labels include all of <paramref name="labels"/>.</summary>
    public HistogramSeries Histogram(params (string Name, string Value)[] labels)
    {
        Assert.Equal("histogram", Type);
        var buckets = Matching(Name + "_bucket", labels).ToList();
        var sum = Assert.Single(Matching(Name + "_sum", labels));
        var count = Assert.Single(Matching(Name + "_count", labels));
        Assert.NotEmpty(buckets);
        return new HistogramSeries(
            buckets.Select(b => (PrometheusTextParser.ParseValue(b.Labels["le"], b.Line), b.Value)).ToList(),
            sum.Value,
            count.Value);
    }
}

public sealed class PrometheusDocument(IReadOnlyList<PrometheusFamily> families)
{
    public IReadOnlyList<PrometheusFamily> Families { get; } = families;

    public PrometheusFamily? Find(string name) => Families.FirstOrDefault(f => f.Name == name);

    public PrometheusFamily Family(string name) =>
        Find(name) ?? throw new Xunit.Sdk.XunitException(
            $"no family {name}; families: {string.Join(", ", Families.Select(f => f.Name))}");
}
