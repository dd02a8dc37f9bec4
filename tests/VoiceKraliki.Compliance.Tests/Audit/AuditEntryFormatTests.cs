using System.Text;
using System.Text.Json;
using VoiceKraliki.Compliance.Audit;

namespace VoiceKraliki.Compliance.Tests.Audit;

/// <summary>The canonical entry bytes are a documented, stable format: these are its known answers.</summary>
public class AuditEntryFormatTests
{
    private static readonly DateTimeOffset Time = new DateTimeOffset(2025, 6, 10, 14, 34, 56, TimeSpan.FromHours(2)).AddTicks(7_891_234);

    [Fact]
    public void An_entry_is_compact_json_with_fixed_member_order_sorted_details_and_microsecond_utc_time()
    {
        var details = Json("""{ "b": 1, "a": { "z": [3, "x", true, false], "y": null }, "é": "ü\n\"q\"\\", "A": "\u0001\u001f" }""");

        var entry = AuditEntryFormat.Encode(7, Time, "consent.given", "ivr", "3f2a9c", details);

        Assert.Equal(
            """{"seq":7,"occurredAt":"2025-06-10T12:34:56.789123Z","kind":"consent.given","actor":"ivr","subject":"3f2a9c","details":{"A":"\u0001\u001f","a":{"y":null,"z":[3,"x",true,false]},"b":1,"é":"ü\n\"q\"\\"}}""",
            Encoding.UTF8.GetString(entry));
        // SHA-256(0x00 ‖ entry), computed independently of this code.
        Assert.Equal("6e4a6ea8b1e8392670fb5e256f313c50477b0ae894a744a6f3c67abf581cf49a", Convert.ToHexStringLower(MerkleTree.HashLeaf(entry)));
    }

    [Fact]
    public void A_missing_subject_is_null_and_missing_details_an_empty_object()
    {
        var entry = AuditEntryFormat.Encode(0, Time, "decision", "policy-engine", null, default);
        Assert.Equal(
            """{"seq":0,"occurredAt":"2025-06-10T12:34:56.789123Z","kind":"decision","actor":"policy-engine","subject":null,"details":{}}""",
            Encoding.UTF8.GetString(entry));
    }

    [Theory]
    [InlineData("1e2", "100")]
    [InlineData("1E+3", "1000")]
    [InlineData("1.50", "1.50")]
    [InlineData("1.50e1", "15.0")]
    [InlineData("-0", "0")]
    [InlineData("-0.00", "0.00")]
    [InlineData("0.0015", "0.0015")]
    [InlineData("-12.5", "-12.5")]
    [InlineData("12345678901234567890", "12345678901234567890")]
    public void Numbers_are_plain_decimals(string number, string canonical)
    {
        Assert.Equal($$"""{"n":{{canonical}}}""", AuditEntryFormat.CanonicalDetails(Json($$"""{"n":{{number}}}""")));
    }

    [Fact]
    public void The_canonical_form_is_a_fixed_point()
    {
        var details = Json("""{"z":{"b":[1e2,{"y":1,"x":2}],"a":"\u00e9\t"},"a":-0.0}""");
        var once = AuditEntryFormat.CanonicalDetails(details);
        Assert.Equal(once, AuditEntryFormat.CanonicalDetails(Json(once)));
    }

    [Theory]
    [InlineData("""{"a":1,"a":2}""", "twice")]
    [InlineData("""{"n":1e400}""", "outside")]
    [InlineData("""{"s":"a\u0000b"}""", "U+0000")]
    [InlineData("""{"s":"\ud800"}""", "Unicode")]
    [InlineData("""[1,2]""", "object")]
    [InlineData("""null""", "object")]
    public void Details_the_log_cannot_keep_exactly_are_refused(string json, string because)
    {
        var error = Assert.Throws<ArgumentException>(() => AuditEntryFormat.CanonicalDetails(Json(json)));
        Assert.Contains(because, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Details_may_nest_32_levels_but_not_more()
    {
        static string Nested(int depth) => depth == 1 ? "{}" : $$"""{"a":{{Nested(depth - 1)}}}""";

        Assert.Equal(Nested(AuditEntryFormat.MaxDepth), AuditEntryFormat.CanonicalDetails(Json(Nested(AuditEntryFormat.MaxDepth))));
        Assert.Throws<ArgumentException>(() => AuditEntryFormat.CanonicalDetails(Json(Nested(AuditEntryFormat.MaxDepth + 1))));
    }

    [Fact]
    public void Times_are_kept_to_the_microsecond_in_utc()
    {
        var truncated = AuditEntryFormat.Truncate(Time);
        Assert.Equal(TimeSpan.Zero, truncated.Offset);
        Assert.Equal(Time.UtcTicks - 4, truncated.UtcTicks);
        Assert.Equal("2025-06-10T12:34:56.789123Z", AuditEntryFormat.FormatTime(Time));
    }

    private static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
