using System.Text;

namespace VoiceKraliki.ServiceDefaults.Metrics;

/// <summary>
/// OpenTelemetry names and units to Prometheus names, after OpenTelemetry's Prometheus compatibility
/// specification: invalid characters become <c>_</c>, runs of <c>_</c> collapse into one, a leading
/// digit gets a <c>_</c> prefix, the unit becomes a suffix and counters end in <c>_total</c>.
/// </summary>
internal static class PrometheusNames
{
    /// <summary>Units with a Prometheus name; anything else is sanitized and used as it is.</summary>
    private static readonly Dictionary<string, string> Units = new(StringComparer.Ordinal)
    {
        ["d"] = "days",
        ["h"] = "hours",
        ["min"] = "minutes",
        ["s"] = "seconds",
        ["ms"] = "milliseconds",
        ["us"] = "microseconds",
        ["ns"] = "nanoseconds",
        ["By"] = "bytes",
        ["KiBy"] = "kibibytes",
        ["MiBy"] = "mebibytes",
        ["GiBy"] = "gibibytes",
        ["TiBy"] = "tibibytes",
        ["KBy"] = "kilobytes",
        ["MBy"] = "megabytes",
        ["GBy"] = "gigabytes",
        ["TBy"] = "terabytes",
        ["m"] = "meters",
        ["V"] = "volts",
        ["A"] = "amperes",
        ["J"] = "joules",
        ["W"] = "watts",
        ["g"] = "grams",
        ["Cel"] = "celsius",
        ["Hz"] = "hertz",
        ["%"] = "percent",
    };

    /// <summary>The denominator of a rate (<c>By/s</c> is <c>bytes_per_second</c>).</summary>
    private static readonly Dictionary<string, string> PerUnits = new(StringComparer.Ordinal)
    {
        ["s"] = "second",
        ["m"] = "minute",
        ["h"] = "hour",
        ["d"] = "day",
        ["w"] = "week",
        ["mo"] = "month",
        ["y"] = "year",
    };

    /// <summary>
    /// The family name of an instrument: sanitized name, then the unit suffix unless the name already
    /// ends with it, then <c>_total</c> for a counter.
    /// </summary>
    public static string MetricName(string instrumentName, string? unit, bool isCounter)
    {
        var name = Sanitize(instrumentName, allowColon: true);
        if (isCounter && name.EndsWith("_total", StringComparison.Ordinal) && name.Length > "_total".Length)
        {
            name = name[..^"_total".Length];
        }

        var suffix = UnitSuffix(unit);
        if (suffix is not null && name != suffix && !name.EndsWith("_" + suffix, StringComparison.Ordinal))
        {
            name = name.EndsWith('_') ? name + suffix : name + "_" + suffix;
        }

        return isCounter ? name + "_total" : name;
    }

    /// <summary>A label name: <c>http.route</c> is <c>http_route</c>, <c>1st</c> is <c>_1st</c>.</summary>
    public static string LabelName(string key) => Sanitize(key, allowColon: false);

    /// <summary>
    /// The Prometheus form of an OpenTelemetry (UCUM) unit, or null for none: <c>1</c> and pure
    /// annotations such as <c>{request}</c> have no suffix.
    /// </summary>
    public static string? UnitSuffix(string? unit)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return null;
        }

        var bare = StripAnnotations(unit).Trim();
        if (bare.Length == 0 || bare == "1")
        {
            return null;
        }

        var slash = bare.IndexOf('/');
        if (slash < 0)
        {
            return Clean(Units.GetValueOrDefault(bare, bare));
        }

        var numerator = bare[..slash].Trim();
        var denominator = bare[(slash + 1)..].Trim();
        var top = numerator is "" or "1" ? null : Clean(Units.GetValueOrDefault(numerator, numerator));
        var bottom = denominator.Length == 0 ? null : Clean(PerUnits.GetValueOrDefault(denominator, denominator));
        return (top, bottom) switch
        {
            (null, null) => null,
            (_, null) => top,
            (null, _) => "per_" + bottom,
            _ => top + "_per_" + bottom,
        };
    }

    private static string StripAnnotations(string unit)
    {
        if (!unit.Contains('{'))
        {
            return unit;
        }

        var result = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && depth > 0)
            {
                depth--;
            }
            else if (depth == 0)
            {
                result.Append(c);
            }
        }

        return result.ToString();
    }

    /// <summary>A unit fragment with only name characters, no leading or trailing <c>_</c>; null if nothing is left.</summary>
    private static string? Clean(string fragment)
    {
        var sanitized = Sanitize(fragment, allowColon: false).Trim('_');
        return sanitized.Length == 0 ? null : sanitized;
    }

    /// <summary>
    /// Replaces every character outside <c>[a-zA-Z0-9_]</c> (and <c>:</c> in metric names) with
    /// <c>_</c>, collapses runs of <c>_</c> (which also keeps label names out of the reserved
    /// <c>__</c> prefix) and prefixes a leading digit with <c>_</c>.
    /// </summary>
    public static string Sanitize(string value, bool allowColon)
    {
        if (value.Length == 0)
        {
            return "_";
        }

        if (IsClean(value, allowColon))
        {
            return value;
        }

        var result = new StringBuilder(value.Length + 1);
        if (char.IsAsciiDigit(value[0]))
        {
            result.Append('_');
        }

        foreach (var c in value)
        {
            var valid = char.IsAsciiLetterOrDigit(c) || (allowColon && c == ':');
            var next = valid ? c : '_';
            if (next == '_' && result.Length > 0 && result[^1] == '_')
            {
                continue;
            }

            result.Append(next);
        }

        return result.ToString();
    }

    private static bool IsClean(string value, bool allowColon)
    {
        if (char.IsAsciiDigit(value[0]))
        {
            return false;
        }

        var previousUnderscore = false;
        foreach (var c in value)
        {
            if (c == '_')
            {
                if (previousUnderscore)
                {
                    return false;
                }

                previousUnderscore = true;
                continue;
            }

            previousUnderscore = false;
            if (!char.IsAsciiLetterOrDigit(c) && !(allowColon && c == ':'))
            {
                return false;
            }
        }

        return true;
    }
}
