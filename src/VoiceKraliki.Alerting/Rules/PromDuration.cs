using System.Globalization;
using System.Text;

namespace VoiceKraliki.Alerting.Rules;

/// <summary>
/// Durations as Prometheus writes them (<c>30s</c>, <c>5m</c>, <c>1h30m</c>, <c>0</c>): whole numbers with the units
/// <c>y w d h m s ms</c>, largest first, each at most once, as Prometheus' <c>model.ParseDuration</c> accepts them
/// (<c>y</c> = 365 d, <c>w</c> = 7 d). A missing or empty value is zero, so a rule may leave out <c>for</c>.
/// </summary>
public static class PromDuration
{
    private static readonly (string Unit, TimeSpan Size)[] Units =
    [
        ("y", TimeSpan.FromDays(365)),
        ("w", TimeSpan.FromDays(7)),
        ("d", TimeSpan.FromDays(1)),
        ("h", TimeSpan.FromHours(1)),
        ("m", TimeSpan.FromMinutes(1)),
        ("s", TimeSpan.FromSeconds(1)),
        ("ms", TimeSpan.FromMilliseconds(1)),
    ];

    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text) || text == "0")
        {
            return true;
        }

        var rest = text.AsSpan();
        var nextUnit = 0;
        var total = TimeSpan.Zero;
        while (!rest.IsEmpty)
        {
            var digits = 0;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits]))
            {
                digits++;
            }

            if (digits == 0 || !long.TryParse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                return false;
            }

            rest = rest[digits..];

            // "ms" before "m": a longer unit name must win over its prefix.
            var unit = -1;
            for (var i = nextUnit; i < Units.Length; i++)
            {
                if (rest.StartsWith(Units[i].Unit, StringComparison.Ordinal) &&
                    (unit < 0 || Units[i].Unit.Length > Units[unit].Unit.Length))
                {
                    unit = i;
                }
            }

            if (unit < 0)
            {
                return false;
            }

            rest = rest[Units[unit].Unit.Length..];
            nextUnit = unit + 1;
            try
            {
                total = checked(total + TimeSpan.FromTicks(checked(count * Units[unit].Size.Ticks)));
            }
            catch (OverflowException)
            {
                return false;
            }
        }

        duration = total;
        return true;
    }

    /// <exception cref="FormatException">The text is not a Prometheus duration.</exception>
    public static TimeSpan Parse(string? text) =>
        TryParse(text, out var duration) ? duration : throw new FormatException($"'{text}' is not a duration such as 30s, 5m or 1h30m.");

    /// <summary>The shortest Prometheus notation (<c>1h30m</c>, <c>0s</c>); below a millisecond is dropped.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "A duration cannot be negative.");
        }

        var ticks = duration.Ticks;
        var text = new StringBuilder();
        foreach (var (unit, size) in Units)
        {
            var count = ticks / size.Ticks;
            if (count > 0)
            {
                text.Append(count.ToString(CultureInfo.InvariantCulture)).Append(unit);
                ticks -= count * size.Ticks;
            }
        }

        return text.Length == 0 ? "0s" : text.ToString();
    }
}
