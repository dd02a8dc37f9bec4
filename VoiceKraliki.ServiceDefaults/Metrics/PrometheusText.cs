using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace VoiceKraliki.ServiceDefaults.Metrics;

/// <summary>
/// Writes the pieces of the text format as UTF-8 straight into a reused buffer, so a scrape builds no
/// intermediate strings for names, numbers or escaped values.
/// </summary>
internal static class PrometheusText
{
    private static readonly SearchValues<char> LabelValueSpecials = SearchValues.Create("\\\"\n");
    private static readonly SearchValues<char> HelpSpecials = SearchValues.Create("\\\n");

    /// <summary>Integral doubles below this are written as integers, never with an exponent.</summary>
    private const double LargestIntegral = 9.2e18;

    public static void Write(this ArrayBufferWriter<byte> output, ReadOnlySpan<byte> utf8) => output.Write<byte>(utf8);

    public static void Write(this ArrayBufferWriter<byte> output, ReadOnlySpan<char> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        output.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    /// <summary>A label value: backslash, double quote and line feed escaped.</summary>
    public static void WriteLabelValue(this ArrayBufferWriter<byte> output, ReadOnlySpan<char> value) =>
        WriteEscaped(output, value, LabelValueSpecials);

    /// <summary>A HELP docstring: backslash and line feed escaped.</summary>
    public static void WriteHelp(this ArrayBufferWriter<byte> output, ReadOnlySpan<char> value) =>
        WriteEscaped(output, value, HelpSpecials);

    private static void WriteEscaped(ArrayBufferWriter<byte> output, ReadOnlySpan<char> value, SearchValues<char> specials)
    {
        while (!value.IsEmpty)
        {
            var index = value.IndexOfAny(specials);
            if (index < 0)
            {
                output.Write(value);
                return;
            }

            output.Write(value[..index]);
            output.Write(value[index] switch
            {
                '\\' => "\\\\"u8,
                '"' => "\\\""u8,
                _ => "\\n"u8,
            });
            value = value[(index + 1)..];
        }
    }

    public static void WriteLong(this ArrayBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(20);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        output.Advance(written);
    }

    /// <summary>
    /// A sample value or bucket bound: <c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>, integers without an
    /// exponent, anything else in the shortest form that reads back to the same double.
    /// </summary>
    public static void WriteDouble(this ArrayBufferWriter<byte> output, double value)
    {
        if (double.IsNaN(value))
        {
            output.Write("NaN"u8);
        }
        else if (double.IsPositiveInfinity(value))
        {
            output.Write("+Inf"u8);
        }
        else if (double.IsNegativeInfinity(value))
        {
            output.Write("-Inf"u8);
        }
        else if (Math.Abs(value) < LargestIntegral && value == Math.Floor(value))
        {
            output.WriteLong((long)value);
        }
        else
        {
            var span = output.GetSpan(32);
            value.TryFormat(span, out var written, "R", CultureInfo.InvariantCulture);
            output.Advance(written);
        }
    }

    /// <summary>
    /// An attribute value as a label value: strings as they are, booleans in lower case, numbers in the
    /// invariant culture, arrays as JSON, as the compatibility specification asks.
    /// </summary>
    public static string FormatAttribute(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        bool b => b ? "true" : "false",
        double d => FormatDouble(d),
        float f => FormatDouble(f),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable sequence => FormatArray(sequence),
        _ => value.ToString() ?? string.Empty,
    };

    private static string FormatDouble(double value)
    {
        var buffer = new ArrayBufferWriter<byte>(32);
        buffer.WriteDouble(value);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string FormatArray(IEnumerable sequence)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartArray();
            foreach (var item in sequence)
            {
                switch (item)
                {
                    case null:
                        json.WriteNullValue();
                        break;
                    case bool b:
                        json.WriteBooleanValue(b);
                        break;
                    case long or int or short or sbyte or ulong or uint or ushort or byte:
                        json.WriteRawValue(((IFormattable)item).ToString(null, CultureInfo.InvariantCulture));
                        break;
                    case double d when double.IsFinite(d):
                        json.WriteNumberValue(d);
                        break;
                    case float f when float.IsFinite(f):
                        json.WriteNumberValue(f);
                        break;
                    default:
                        json.WriteStringValue(FormatAttribute(item));
                        break;
                }
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(stream.GetBuffer(), 0, (int)stream.Length);
    }
}
