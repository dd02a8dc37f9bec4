using System.Text;
using FsCheck;
using FsCheck.Fluent;
using VoiceKraliki.Telephony.Signatures;
using static VoiceKraliki.Telephony.Tests.Signatures.SignatureGenerators;

namespace VoiceKraliki.Telephony.Tests.Signatures;

public class FormBodyTests
{
    private static IReadOnlyList<KeyValuePair<string, string>> Parse(string body)
    {
        Assert.True(FormBody.TryParse(Encoding.UTF8.GetBytes(body), out var fields), body);
        return fields;
    }

    private static KeyValuePair<string, string> Pair(string key, string value) => new(key, value);

    [Theory]
    [InlineData("From=%2B14155550100", "+14155550100")]
    [InlineData("From=+14155550100", " 14155550100")]
    [InlineData("From=a%20b", "a b")]
    [InlineData("From=a+b", "a b")]
    [InlineData("From=a%2bb", "a+b")]
    [InlineData("From=%E2%82%AC", "€")]
    [InlineData("From=%e2%82%ac", "€")]
    [InlineData("From=€", "€")]
    [InlineData("From=a=b", "a=b")]
    [InlineData("From=%26%3D%25", "&=%")]
    [InlineData("From=%00", "\0")]
    public void Values_are_decoded_plus_as_space_and_percent_as_utf8(string body, string expected)
    {
        Assert.Equal([Pair("From", expected)], Parse(body));
    }

    [Fact]
    public void Keys_are_decoded_like_values()
    {
        Assert.Equal([Pair("a b+c", "1")], Parse("a+b%2Bc=1"));
    }

    [Fact]
    public void Repeated_keys_are_kept_in_arrival_order()
    {
        Assert.Equal(
            [Pair("Digits", "5678"), Pair("Sid", "CA1"), Pair("Digits", "1234"), Pair("Digits", "1234")],
            Parse("Digits=5678&Sid=CA1&Digits=1234&Digits=1234"));
    }

    [Fact]
    public void Empty_values_and_keys_without_equals_are_kept_as_empty_strings()
    {
        Assert.Equal([Pair("a", ""), Pair("b", ""), Pair("", "x"), Pair("c", "")], Parse("a=&b&=x&c="));
    }

    [Theory]
    [InlineData("")]
    [InlineData("&")]
    [InlineData("&&&")]
    public void A_body_with_no_fields_parses_to_none(string body)
    {
        Assert.Empty(Parse(body));
    }

    [Fact]
    public void Empty_segments_between_ampersands_are_skipped()
    {
        Assert.Equal([Pair("a", "1"), Pair("b", "2")], Parse("&a=1&&b=2&"));
    }

    [Theory]
    [InlineData("a=%ZZ")]
    [InlineData("a=%")]
    [InlineData("a=%4")]
    [InlineData("a=%G1")]
    [InlineData("%=1")]
    [InlineData("a=1&b=%%41")]
    [InlineData("a=%C3%28")]
    [InlineData("a=%C0%AF")]
    [InlineData("a=%ED%A0%80")]
    [InlineData("a=%F4%90%80%80")]
    [InlineData("a=%E2%82")]
    [InlineData("a=%FF")]
    public void Malformed_escapes_and_invalid_utf8_are_rejected(string body)
    {
        Assert.False(FormBody.TryParse(Encoding.ASCII.GetBytes(body), out var fields));
        Assert.Empty(fields);
    }

    [Fact]
    public void Raw_bytes_that_are_not_utf8_are_rejected()
    {
        Assert.False(FormBody.TryParse([(byte)'a', (byte)'=', 0xC3], out _));
        Assert.False(FormBody.TryParse([0xFF, (byte)'=', (byte)'1'], out _));
    }

    [Fact]
    public void A_real_status_callback_parses_to_its_fields()
    {
        var fields = Parse(
            "Called=%2B18005551212&ToState=CA&CallerCountry=US&Direction=inbound&Timestamp=Tue%2C+10+Jan+2023+10%3A00%3A00+%2B0000"
            + "&CallbackSource=call-progress-events&CallerState=CA&ToZip=&SequenceNumber=0&CallSid=CA1234567890ABCDE&To=%2B18005551212"
            + "&CallerZip=&ToCountry=US&CalledZip=&ApiVersion=2010-04-01&CallStatus=completed&From=%2B14158675309&AccountSid=AC123");

        Assert.Equal(18, fields.Count);
        Assert.Contains(Pair("Timestamp", "Tue, 10 Jan 2023 10:00:00 +0000"), fields);
        Assert.Contains(Pair("ToZip", ""), fields);
        Assert.Contains(Pair("From", "+14158675309"), fields);
    }

    [Fact]
    public void Encode_writes_space_as_plus_and_escapes_everything_but_unreserved_characters()
    {
        var encoded = FormBody.Encode([Pair("Body", "Hi there + €/&=?"), Pair("From", "+14155550100"), Pair("k*-._", "")]);
        Assert.Equal("Body=Hi+there+%2B+%E2%82%AC%2F%26%3D%3F&From=%2B14155550100&k*-._=", encoded);
    }

    [Fact]
    public void Encode_of_no_fields_is_empty()
    {
        Assert.Equal("", FormBody.Encode([]));
    }

    [Fact]
    public void Encoding_then_parsing_gives_back_the_same_fields()
    {
        Holds(Prop.ForAll(Fields.ToArbitrary(), fields =>
            FormBody.TryParse(Encoding.ASCII.GetBytes(FormBody.Encode(fields)), out var parsed)
            && parsed.SequenceEqual(fields)));
    }

    [Fact]
    public void Parsing_arbitrary_bytes_never_throws()
    {
        var bodies = Gen.OneOf<byte[]>(
            Bytes(300),
            Text(0, 60).Select(s => Encoding.UTF8.GetBytes(s)),
            Gen.ArrayOf(Gen.Elements<byte>((byte)'%', (byte)'&', (byte)'=', (byte)'+', (byte)'2', (byte)'B', (byte)'C', (byte)'3', 0xC3, 0xA9))).ToArbitrary();
        Holds(Prop.ForAll(bodies, body =>
        {
            var ok = FormBody.TryParse(body, out var fields);
            return ok || fields.Count == 0;
        }));
    }
}
