using VoiceKraliki.Telephony.Numbers;

namespace VoiceKraliki.Telephony.Tests.Numbers;

public class PhoneMaskTests
{
    [Theory]
    [InlineData("+14155550123", "+*******0123")]
    [InlineData("+4930901820", "+******1820")]
    [InlineData("sip:+420777123456@pbx.example.com", "sip:+********3456@pbx.example.com")]
    [InlineData("+1 (415) 555-0123", "+* (***) ***-0123")]
    [InlineData("1234", "1234")]
    [InlineData("anonymous", "anonymous")]
    [InlineData("", "")]
    public void Every_digit_but_the_last_four_is_hidden_and_nothing_else_changes(string text, string masked)
    {
        Assert.Equal(masked, PhoneMask.Mask(text));
    }
}
