using System.ComponentModel.DataAnnotations;
using VoiceKraliki.Telephony;

namespace VoiceKraliki.Telephony.Tests;

public class TelephonyOptionsTests
{
    private static List<ValidationResult> Validate(TelephonyOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }

    [Fact]
    public void Defaults_are_valid_and_point_at_the_real_providers()
    {
        var options = new TelephonyOptions();
        Assert.Empty(Validate(options));
        Assert.Equal("https://api.twilio.com", options.Twilio.ApiBaseUrl);
        Assert.Equal("https://api.telnyx.com", options.Telnyx.ApiBaseUrl);
    }

    [Theory]
    [InlineData("voice.example.com")]
    [InlineData("ftp://voice.example.com")]
    [InlineData("/relative")]
    public void A_public_base_url_that_is_not_absolute_http_is_rejected_naming_the_key(string url)
    {
        var errors = Validate(new TelephonyOptions { PublicBaseUrl = url });
        Assert.Contains(errors, e => e.ErrorMessage!.Contains("Telephony:PublicBaseUrl"));
    }

    [Fact]
    public void A_telnyx_public_key_must_be_32_bytes_of_base64()
    {
        var good = Convert.ToBase64String(new byte[32]);
        Assert.Empty(Validate(new TelephonyOptions { Telnyx = { PublicKey = good } }));

        var shortKey = Convert.ToBase64String(new byte[31]);
        Assert.Contains(Validate(new TelephonyOptions { Telnyx = { PublicKey = shortKey } }),
            e => e.ErrorMessage!.Contains("Telephony:Telnyx:PublicKey"));
        Assert.Contains(Validate(new TelephonyOptions { Telnyx = { PublicKey = "not base64!" } }),
            e => e.ErrorMessage!.Contains("Telephony:Telnyx:PublicKey"));
    }

    [Fact]
    public void A_twilio_account_sid_must_start_with_AC()
    {
        Assert.Empty(Validate(new TelephonyOptions { Twilio = { AccountSid = "AC0123456789abcdef0123456789abcdef" } }));
        Assert.Contains(Validate(new TelephonyOptions { Twilio = { AccountSid = "XX01" } }),
            e => e.ErrorMessage!.Contains("Telephony:Twilio:AccountSid"));
    }

    [Fact]
    public void Api_base_urls_can_point_at_the_simulator_but_must_be_urls()
    {
        Assert.Empty(Validate(new TelephonyOptions { Twilio = { ApiBaseUrl = "http://127.0.0.1:5999" } }));
        Assert.Contains(Validate(new TelephonyOptions { Telnyx = { ApiBaseUrl = "nowhere" } }),
            e => e.ErrorMessage!.Contains("Telephony:Telnyx:ApiBaseUrl"));
    }
}
