using System.Globalization;
using System.Text;
using System.Text.Json;

namespace VoiceKraliki.Compliance.Audit;

/// <summary>
/// The canonical bytes of an audit entry, the <c>entry</c> of its leaf hash <c>SHA-256(0x00 ‖ entry)</c>. Anyone
/// holding an exported row can recompute them; <c>VerifyAsync</c> does so from the stored columns.
/// <para>
/// The entry is UTF-8 JSON without whitespace whose members are, in this order:
/// <c>{"seq":N,"occurredAt":"yyyy-MM-ddTHH:mm:ss.ffffffZ","kind":"…","actor":"…","subject":"…"|null,"details":{…}}</c>
/// </para>
/// <list type="bullet">
/// <item><c>seq</c>: the entry's position in the log, a decimal integer from 0.</item>
/// <item><c>occurredAt</c>: UTC with exactly six fraction digits (microseconds, Postgres's precision).</item>
/// <item>Strings escape only what JSON requires: <c>\"</c>, <c>\\</c>, <c>\b \f \n \r \t</c>, and the other
/// U+0001–U+001F as <c>\u00xx</c> (lowercase hex); everything else is literal UTF-8. U+0000 and unpaired
/// surrogates are refused (Postgres text and jsonb cannot hold them).</item>
/// <item><c>details</c> is a JSON object; at every depth an object's members are sorted by name in ordinal UTF-16
/// order (as RFC 8785), duplicate names are refused, arrays keep their order.</item>
/// <item>Numbers are written as plain decimals with no exponent, keeping the fraction's trailing zeros
/// (<c>1e2</c> → <c>100</c>, <c>1.50</c> → <c>1.50</c>, <c>-0</c> → <c>0</c>), with at most 28–29 significant
/// digits (System.Decimal, rounded beyond); numbers outside ±7.9·10^28 are refused. Postgres jsonb keeps exactly
/// such numbers, so the canonical details read back from <c>audit_entries.details</c> give the same bytes.</item>
/// </list>
/// </summary>
public static class AuditEntryFormat
{
    /// <summary>How deeply details may nest; well inside what System.Text.Json reads back (64).</summary>
    public const int MaxDepth = 32;

    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The canonical entry bytes that are hashed.</summary>
    public static byte[] Encode(long seq, DateTimeOffset occurredAt, string kind, string actor, string? subject, JsonElement details) =>
        EncodeCanonical(seq, occurredAt, kind, actor, subject, CanonicalDetails(details));

    /// <summary>The canonical entry bytes, with <paramref name="canonicalDetails"/> from <see cref="CanonicalDetails"/>.</summary>
    internal static byte[] EncodeCanonical(long seq, DateTimeOffset occurredAt, string kind, string actor, string? subject, string canonicalDetails)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seq);
        var json = new StringBuilder(256);
        json.Append("{\"seq\":").Append(seq.ToString(CultureInfo.InvariantCulture));
        json.Append(",\"occurredAt\":\"").Append(FormatTime(occurredAt)).Append('"');
        json.Append(",\"kind\":");
        WriteString(json, kind, "kind");
        json.Append(",\"actor\":");
        WriteString(json, actor, "actor");
        json.Append(",\"subject\":");
        if (subject is null)
        {
            json.Append("null");
        }
        else
        {
            WriteString(json, subject, "subject");
        }

        json.Append(",\"details\":").Append(canonicalDetails).Append('}');
        return StrictUtf8.GetBytes(json.ToString());
    }

    /// <summary>The canonical JSON text of <paramref name="details"/> (an object; undefined counts as <c>{}</c>).</summary>
    public static string CanonicalDetails(JsonElement details)
    {
        var json = new StringBuilder(128);
        WriteDetails(json, details);
        return json.ToString();
    }

    /// <summary>The time as the log keeps it: UTC, truncated to whole microseconds.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % 10), TimeSpan.Zero);
    }

    public static string FormatTime(DateTimeOffset time) =>
        Truncate(time).UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private static void WriteDetails(StringBuilder json, JsonElement details)
    {
        switch (details.ValueKind)
        {
            case JsonValueKind.Undefined:
                json.Append("{}");
                break;
            case JsonValueKind.Object:
                WriteValue(json, details, "details", 1);
                break;
            default:
                throw new ArgumentException($"details must be a JSON object, not {details.ValueKind}.", nameof(details));
        }
    }

    private static void WriteValue(StringBuilder json, JsonElement value, string path, int depth)
    {
        if (depth > MaxDepth && value.ValueKind is JsonValueKind.Object or JsonValueKind.Array)
        {
            throw new ArgumentException($"{path} nests deeper than {MaxDepth} levels.", nameof(value));
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                var members = new List<JsonProperty>();
                foreach (var member in value.EnumerateObject())
                {
                    members.Add(member);
                }

                members.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
                json.Append('{');
                for (var i = 0; i < members.Count; i++)
                {
                    if (i > 0)
                    {
                        if (members[i].Name == members[i - 1].Name)
                        {
                            throw new ArgumentException($"{path} has the member '{members[i].Name}' twice.", nameof(value));
                        }

                        json.Append(',');
                    }

                    WriteString(json, members[i].Name, path);
                    json.Append(':');
                    WriteValue(json, members[i].Value, path + "." + members[i].Name, depth + 1);
                }

                json.Append('}');
                break;
            case JsonValueKind.Array:
                json.Append('[');
                var first = true;
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (!first)
                    {
                        json.Append(',');
                    }

                    WriteValue(json, item, $"{path}[{index++}]", depth + 1);
                    first = false;
                }

                json.Append(']');
                break;
            case JsonValueKind.String:
                string text;
                try
                {
                    text = value.GetString()!;
                }
                catch (InvalidOperationException e)
                {
                    throw new ArgumentException($"{path} is not valid Unicode text.", nameof(value), e);
                }

                WriteString(json, text, path);
                break;
            case JsonValueKind.Number:
                if (!decimal.TryParse(value.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
                {
                    throw new ArgumentException($"{path} is a number outside ±7.9e28; write it as a string.", nameof(value));
                }

                json.Append(number.ToString(CultureInfo.InvariantCulture));
                break;
            case JsonValueKind.True:
                json.Append("true");
                break;
            case JsonValueKind.False:
                json.Append("false");
                break;
            case JsonValueKind.Null:
                json.Append("null");
                break;
            default:
                throw new ArgumentException($"{path} is not a JSON value.", nameof(value));
        }
    }

    private static void WriteString(StringBuilder json, string text, string path)
    {
        json.Append('"');
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '\0':
                    throw new ArgumentException($"{path} contains U+0000, which the log cannot store.", nameof(text));
                case '"':
                    json.Append("\\\"");
                    break;
                case '\\':
                    json.Append("\\\\");
                    break;
                case '\b':
                    json.Append("\\b");
                    break;
                case '\f':
                    json.Append("\\f");
                    break;
                case '\n':
                    json.Append("\\n");
                    break;
                case '\r':
                    json.Append("\\r");
                    break;
                case '\t':
                    json.Append("\\t");
                    break;
                case < ' ':
                    json.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                    {
                        json.Append(c).Append(text[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        throw new ArgumentException($"{path} contains an unpaired surrogate.", nameof(text));
                    }
                    else
                    {
                        json.Append(c);
                    }

                    break;
            }
        }

        json.Append('"');
    }
}
