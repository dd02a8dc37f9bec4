using System.Text;
using VoiceKraliki.Telephony.Signatures;

namespace VoiceKraliki.Telephony.Tests.Signatures;

/// <summary>Our own behaviour around the official vectors: hostile input, port variants, the JSON signer.</summary>
public class TwilioSignatureTests
{
    private const string Token = "12345";
    private const string Url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    private readonly TwilioRequestValidator _validator = new(Token);
    private readonly TwilioRequestSigner _signer = new(Token);

    private static KeyValuePair<string, string>[] StatusCallback() =>
    [
        new("AccountSid", "AC0123456789abcdef0123456789abcdef"), new("ApiVersion", "2010-04-01"),
        new("CallSid", "CA0123456789abcdef0123456789abcdef"), new("CallStatus", "completed"), new("Called", "+18005551212"),
        new("Caller", "+14158675309"), new("CallDuration", "42"), new("CallbackSource", "call-progress-events"),
        new("Direction", "outbound-api"), new("From", "+14158675309"), new("SequenceNumber", "3"),
        new("Timestamp", "Tue, 10 Jan 2023 10:00:00 +0000"), new("To", "+18005551212"), new("ToCountry", "US"), new("ToZip", ""),
    ];

    [Fact]
    public void The_header_name_is_twilios()
    {
        Assert.Equal("X-Twilio-Signature", TwilioSignature.HeaderName);
    }

    [Fact]
    public void A_get_request_validates_with_no_fields()
    {
        var url = "https://voice.example.com/twilio/voice?CallSid=CA1&From=%2B14155550100";
        Assert.True(_validator.Validate(url, [], _signer.Sign(url, [])));
    }

    [Fact]
    public void A_typical_status_callback_signed_by_our_signer_validates()
    {
        var url = "https://voice.example.com/twilio/status?tenant=t1";
        var signature = _signer.Sign(url, StatusCallback());
        Assert.True(_validator.Validate(url, StatusCallback(), signature));
        Assert.False(new TwilioRequestValidator("other-token").Validate(url, StatusCallback(), signature));
    }

    [Fact]
    public void Signer_and_static_compute_accept_any_enumerable_of_fields()
    {
        static IEnumerable<KeyValuePair<string, string>> Lazy()
        {
            foreach (var field in StatusCallback())
            {
                yield return field;
            }
        }

        var expected = TwilioSignature.Compute(Token, Url, StatusCallback());
        Assert.Equal(expected, _signer.Sign(Url, Lazy()));
        Assert.Equal(expected, _signer.Sign(Url, new Dictionary<string, string>(StatusCallback())));
        Assert.Equal(expected, _signer.Sign(Url, StatusCallback().ToList()));
    }

    [Fact]
    public void Requests_larger_than_the_stack_buffer_validate_too()
    {
        var fields = Enumerable.Range(0, 200)
            .Select(i => new KeyValuePair<string, string>($"Field{i}", new string('x', i) + "é王😀"))
            .ToArray();
        var url = Url + "&" + new string('q', 3000);
        Assert.True(_validator.Validate(url, fields, _signer.Sign(url, fields)));
    }

    [Theory]
    [InlineData("https://h.example/x", "http://h.example/x")]
    [InlineData("https://h.example:80/x", "https://h.example/x")]
    [InlineData("http://h.example:443/x", "http://h.example/x")]
    [InlineData("https://h.example:8443/x", "https://h.example:8444/x")]
    [InlineData("https://h.example:8443/x", "https://h.example/x")]
    [InlineData("https://h.example/x", "https://H.example/x")]
    [InlineData("https://h.example/x", "https://h.example/x/")]
    [InlineData("https://h.example/x?a=1", "https://h.example/x?a=1#frag")]
    [InlineData("https://h.example/x?a='", "https://h.example/x?a=%2527")]
    [InlineData("ftp://h.example:21/x", "ftp://h.example/x")]
    public void Only_the_port_and_apostrophe_variants_are_accepted(string signedUrl, string receivedUrl)
    {
        Assert.False(_validator.Validate(receivedUrl, [], _signer.Sign(signedUrl, [])));
    }

    [Theory]
    [InlineData("https://h.example/x", "https://h.example:80/x")] // like every SDK, any port is removed
    [InlineData("http://h.example/x", "http://h.example:443/x")]
    [InlineData("https://[2001:db8::1]/x", "https://[2001:db8::1]:443/x")]
    [InlineData("https://[2001:db8::1]:8443/x", "https://[2001:db8::1]:8443/x")]
    [InlineData("https://[2001:db8::1]/x", "https://[2001:db8::1]:1234/x")]
    [InlineData("http://user:p%40ss@h.example/x", "http://user:p%40ss@h.example:8080/x")]
    [InlineData("https://h.example", "https://h.example:443")]
    [InlineData("https://h.example?a=1", "https://h.example:443?a=1")]
    [InlineData("HTTPS://h.example/x", "HTTPS://h.example:443/x")]
    [InlineData("ftp://h.example/x", "ftp://h.example/x")]
    [InlineData("not a url at all", "not a url at all")]
    public void The_port_variant_is_found_whatever_the_authority_looks_like(string signedUrl, string receivedUrl)
    {
        Assert.True(_validator.Validate(receivedUrl, [], _signer.Sign(signedUrl, [])));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("RSOYDt4T1cUTdK1PDd93/VVr8B8")]
    [InlineData("RSOYDt4T1cUTdK1PDd93/VVr8B8==")]
    [InlineData(" RSOYDt4T1cUTdK1PDd93/VVr8B8=")]
    [InlineData("rsoydt4t1cutdk1pdd93/vvr8b8=")]
    [InlineData("!!!!!!!!!!!!!!!!!!!!!!!!!!!!")]
    [InlineData("王王王王王王王王王王王王王王王王王王王王王王王王王王王王")]
    public void Hostile_signatures_are_rejected_without_throwing(string? signature)
    {
        KeyValuePair<string, string>[] fields = [new("CallSid", "CA1234567890ABCDE")];
        Assert.False(_validator.Validate(Url, fields, signature));
        Assert.False(_validator.ValidateJsonBody(Url + "&bodySHA256=" + new string('0', 64), "{}"u8, signature));
    }

    [Fact]
    public void A_null_url_is_rejected_without_throwing()
    {
        Assert.False(_validator.Validate(null!, [], "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        Assert.False(_validator.ValidateJsonBody(null!, "{}"u8, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
    }

    [Fact]
    public void A_huge_url_is_rejected_without_throwing()
    {
        var huge = "https://h.example/?" + new string('a', 5_000_000);
        Assert.False(_validator.Validate(huge, [], "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        Assert.False(_validator.ValidateJsonBody(huge + "&bodySHA256=" + new string('0', 64), [], "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        Assert.Throws<ArgumentException>(() => _signer.Sign(huge, []));
    }

    [Fact]
    public void Null_keys_and_values_in_the_fields_do_not_throw()
    {
        KeyValuePair<string, string>[] fields = [new(null!, null!), new("a", null!)];
        Assert.True(_validator.Validate(Url, fields, _signer.Sign(Url, [new("", ""), new("a", "")])));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_missing_auth_token_is_a_configuration_error(string? token)
    {
        Assert.ThrowsAny<ArgumentException>(() => new TwilioRequestValidator(token!));
        Assert.ThrowsAny<ArgumentException>(() => new TwilioRequestSigner(token!));
        Assert.ThrowsAny<ArgumentException>(() => TwilioSignature.Compute(token!, Url, []));
    }

    [Theory]
    [InlineData("https://h.example/hook", "https://h.example/hook?bodySHA256=")]
    [InlineData("https://h.example/hook?", "https://h.example/hook?bodySHA256=")]
    [InlineData("https://h.example/hook?a=1", "https://h.example/hook?a=1&bodySHA256=")]
    [InlineData("https://h.example/hook?a=1&", "https://h.example/hook?a=1&bodySHA256=")]
    [InlineData("https://h.example/hook?a=1#rc=2", "https://h.example/hook?a=1&bodySHA256=")]
    [InlineData("https://h.example/hook?a=?", "https://h.example/hook?a=?&bodySHA256=")]
    public void The_json_signer_appends_the_body_hash_to_the_query(string url, string expectedPrefix)
    {
        var body = "{\"event\":\"x\"}"u8.ToArray();
        var (signedUrl, signature) = _signer.SignJsonBody(url, body);

        Assert.StartsWith(expectedPrefix, signedUrl, StringComparison.Ordinal);
        Assert.Equal(url.Contains('#') ? "#rc=2" : "", signedUrl[(expectedPrefix.Length + 64)..]);
        Assert.True(_validator.ValidateJsonBody(signedUrl, body, signature));
    }

    [Fact]
    public void The_json_signer_refuses_a_url_that_already_has_a_body_hash()
    {
        Assert.Throws<ArgumentException>(() => _signer.SignJsonBody(Url + "&bodySHA256=abc", "{}"u8));
    }

    [Fact]
    public void A_json_url_with_two_body_hashes_is_rejected()
    {
        var (url, _) = _signer.SignJsonBody(Url, "{}"u8);
        var doubled = url + "&bodySHA256=" + url[^64..];
        Assert.False(_validator.ValidateJsonBody(doubled, "{}"u8, _signer.Sign(doubled, [])));
    }

    [Fact]
    public void The_body_hash_hex_digits_may_be_upper_case_because_the_url_itself_is_signed()
    {
        var (url, _) = _signer.SignJsonBody(Url, "{}"u8);
        var upper = url[..^64] + url[^64..].ToUpperInvariant();
        Assert.True(_validator.ValidateJsonBody(upper, "{}"u8, _signer.Sign(upper, [])));
    }

    [Fact]
    public void A_json_signature_made_over_form_fields_is_not_a_json_signature()
    {
        var (url, _) = _signer.SignJsonBody(Url, "{}"u8);
        var formSignature = _signer.Sign(url, [new("a", "b")]);
        Assert.False(_validator.ValidateJsonBody(url, "{}"u8, formSignature));
    }

    [Fact]
    public void Signing_is_deterministic_and_utf8()
    {
        var first = TwilioSignature.Compute("tøkén", "https://h.example/ü", [new("Bödy", "王😀")]);
        var second = new TwilioRequestSigner("tøkén").Sign("https://h.example/ü", [new("Bödy", "王😀")]);
        Assert.Equal(first, second);

        // HMAC-SHA1 over the UTF-8 of the same string, computed without our code.
        var expected = Convert.ToBase64String(System.Security.Cryptography.HMACSHA1.HashData(
            Encoding.UTF8.GetBytes("tøkén"), Encoding.UTF8.GetBytes("https://h.example/üBödy王😀")));
        Assert.Equal(expected, first);
    }
}
