using System.Security.Cryptography;
using System.Text;
using VoiceKraliki.Compliance.Regions;

namespace VoiceKraliki.Compliance.Tests.Regions;

public class PhoneNumberTests
{
    private static readonly byte[] Key = Encoding.ASCII.GetBytes("0123456789abcdef0123456789abcdef");

    [Theory]
    [InlineData("+14155550123", 1, "4155550123")]
    [InlineData("+442079460000", 44, "2079460000")]
    [InlineData("+35312345678", 353, "12345678")]
    [InlineData("+74951234567", 7, "4951234567")]
    [InlineData("+80012345678", 800, "12345678")]
    public void An_E164_number_parses_into_calling_code_and_national_number(string text, int callingCode, string national)
    {
        Assert.True(PhoneNumber.TryParse(text, out var number, out var error), error);

        Assert.Null(error);
        Assert.Equal(text, number.Value);
        Assert.Equal(callingCode, number.CallingCode);
        Assert.Equal(national, number.NationalNumber);
    }

    [Fact]
    public void Surrounding_whitespace_is_trimmed()
    {
        Assert.True(PhoneNumber.TryParse(" \t+14155550123\r\n", out var number, out _));

        Assert.Equal("+14155550123", number.Value);
    }

    [Theory]
    [InlineData(null, "is empty")]
    [InlineData("", "is empty")]
    [InlineData("   ", "is empty")]
    [InlineData("14155550123", "does not start with '+'")]
    [InlineData("004155550123", "does not start with '+'")]
    [InlineData("+1415555O123", "contains a letter")]
    [InlineData("+1 415 555 0123", "contains a space")]
    [InlineData("+1-415-555-0123", "contains the separator '-'")]
    [InlineData("+1(415)5550123", "contains the separator '('")]
    [InlineData("+1.415.555.0123", "contains the separator '.'")]
    [InlineData("++14155550123", "contains a second '+'")]
    [InlineData("+", "has 0 digits")]
    [InlineData("+1415555", "has 7 digits")]
    [InlineData("+1415555012345678", "has 16 digits")]
    [InlineData("+04155550123", "starts with '+0'")]
    public void A_malformed_number_is_rejected_saying_what_is_wrong(string? text, string problem)
    {
        Assert.False(PhoneNumber.TryParse(text, out var number, out var error));

        Assert.Null(number);
        Assert.Contains(problem, error, StringComparison.Ordinal);
        Assert.Contains("it must be E.164: '+' then 8 to 15 digits", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+2812345678", "+2, +28, +281")]
    [InlineData("+99912345678", "+9, +99, +999")]
    [InlineData("+42212345678", "+4, +42, +422")]
    public void A_number_with_an_unassigned_country_calling_code_is_rejected(string text, string triedCodes)
    {
        Assert.False(PhoneNumber.TryParse(text, out _, out var error));

        Assert.Contains("country calling code is not assigned in ITU-T E.164", error, StringComparison.Ordinal);
        Assert.Contains(triedCodes, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+1 415 555 0123")]
    [InlineData("+1415555012345678")]
    [InlineData("+99912345678")]
    public void An_error_message_does_not_repeat_the_number(string text)
    {
        Assert.False(PhoneNumber.TryParse(text, out _, out var error));

        Assert.DoesNotContain("5550123", error, StringComparison.Ordinal);
        Assert.DoesNotContain("12345678", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_throws_a_format_exception_with_the_reason()
    {
        var exception = Assert.Throws<FormatException>(() => PhoneNumber.Parse("+1 415 555 0123"));

        Assert.Contains("contains a space", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+14155550123", "+*******0123")]
    [InlineData("+4930123456", "+******3456")]
    [InlineData("+12345678", "+****5678")]
    public void Masking_keeps_the_plus_and_the_last_four_digits(string text, string masked)
    {
        var number = PhoneNumber.Parse(text);

        Assert.Equal(masked, number.Masked);
    }

    [Fact]
    public void ToString_is_masked_so_a_number_in_a_log_line_does_not_leak()
    {
        var number = PhoneNumber.Parse("+14155550123");

        Assert.Equal("+*******0123", number.ToString());
        Assert.Equal("calling +*******0123", $"calling {number}");
    }

    [Fact]
    public void Hash_is_the_lowercase_hex_hmac_sha256_of_the_e164_string()
    {
        var number = PhoneNumber.Parse("+14155550123");

        // Computed with Python's hmac module, independently of .NET.
        Assert.Equal("607718732bfa5a0b0110c5de63085df51c973da4c81fe4f663e3f13ed580ee2a", number.Hash(Key));
        Assert.Equal(Convert.ToHexStringLower(HMACSHA256.HashData(Key, "+14155550123"u8)), number.Hash(Key));
    }

    [Fact]
    public void Hash_is_the_same_for_the_same_number_and_differs_by_number_and_key()
    {
        var number = PhoneNumber.Parse("+14155550123");
        var otherKey = Encoding.ASCII.GetBytes("fedcba9876543210fedcba9876543210");

        Assert.Equal(number.Hash(Key), PhoneNumber.Parse(" +14155550123 ").Hash(Key));
        Assert.NotEqual(number.Hash(Key), PhoneNumber.Parse("+14155550124").Hash(Key));
        Assert.NotEqual(number.Hash(Key), number.Hash(otherKey));
    }

    [Fact]
    public void Hash_refuses_a_key_short_enough_to_guess()
    {
        var number = PhoneNumber.Parse("+14155550123");

        var exception = Assert.Throws<ArgumentException>(() => number.Hash(new byte[PhoneNumber.MinimumHashKeyLength - 1]));
        Assert.Equal("key", exception.ParamName);
    }

    [Fact]
    public void Numbers_with_the_same_e164_value_are_equal()
    {
        Assert.Equal(PhoneNumber.Parse("+14155550123"), PhoneNumber.Parse("  +14155550123"));
        Assert.NotEqual(PhoneNumber.Parse("+14155550123"), PhoneNumber.Parse("+14155550124"));
    }
}
