using System.Security.Cryptography;
using System.Text;
using VoiceKraliki.Telephony.Signatures;

namespace VoiceKraliki.Telephony.Tests.Signatures;

/// <summary>
/// Every request-validator case in Twilio's official SDK test suites, with the SDKs' inputs and expected
/// outcomes. Each case names the file(s) it comes from; most vectors are shared by several SDKs.
/// Files read:
///   twilio-csharp  test/Twilio.Test/Security/RequestValidatorTest.cs
///   twilio-python  tests/unit/test_request_validator.py
///   twilio-node    spec/validation.spec.js, spec/unit/webhooks/webhooks.spec.js
///   twilio-java    src/test/java/com/twilio/security/RequestValidatorTest.java
///   twilio-ruby    spec/security/request_validator_spec.rb
///   twilio-php     tests/Twilio/Unit/RequestValidatorTest.php
///   twilio-go      client/request_validator_test.go
/// Cases the SDKs test that are not about the signature (middleware options, auth-token configuration,
/// thread start-up) are noted where they map onto something of ours, and otherwise left out.
/// </summary>
public class TwilioOfficialVectorsTests
{
    private const string Token = "12345";
    private const string Url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    private const string Signature = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
    private const string Body = "{\"property\": \"value\", \"boolean\": true}";
    private const string BodyHash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
    private const string EmptyObjectHash = "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    private readonly TwilioRequestValidator _validator = new(Token);

    /// <summary>The SDKs' shared form fields, deliberately out of order (twilio-csharp's comment says so).</summary>
    private static KeyValuePair<string, string>[] CallFields() =>
    [
        new("CallSid", "CA1234567890ABCDE"),
        new("From", "+14158675309"),
        new("Digits", "1234"),
        new("To", "+18005551212"),
        new("Caller", "+14158675309"),
    ];

    private static KeyValuePair<string, string>[] Fields(params (string Key, string Value)[] pairs) =>
        pairs.Select(p => new KeyValuePair<string, string>(p.Key, p.Value)).ToArray();

    public static TheoryData<string, string, string?, bool> CallFieldVectors => new()
    {
        // name, url, signature, expected
        // csharp TestValidateDictionary + TestValidateCollection, python test_validation, node "should succeed with
        // the correct signature", java testValidate, ruby "should validate an authentic Twilio request",
        // php testValidate, go "returns true when validation succeeds"
        { "documented vector", Url, Signature, true },
        // csharp TestValidateFailsWhenIncorrect, java testFailsWhenIncorrect
        { "NOT-prefixed signature", Url, "NOTRSOYDt4T1cUTdK1PDd93/VVr8B8=", false },
        // node "should fail when given the wrong signature"
        { "WRONG_SIGNATURE", Url, "WRONG_SIGNATURE", false },
        // ruby "should not validate a request with wrong signature"
        { "fake_signature", Url, "fake_signature", false },
        // php testFailsWhenIncorrect
        { "FAIL", Url, "FAIL", false },
        // go "returns false when validation fails"
        { "WRONG SIGNATURE", Url, "WRONG SIGNATURE", false },
        // java testValidateFailsWithWrongSignature
        { "IncorrectSignatureValue123=", Url, "IncorrectSignatureValue123=", false },
        // node "should fail when signature undefined", java testValidateFailsWithNullSignature
        { "null signature", Url, null, false },
        // java testValidateFailsWithEmptySignature
        { "empty signature", Url, "", false },
        // csharp TestValidateRemovesPortHttps, python test_validation_removes_port_on_https, node "should validate
        // https urls with ports by stripping them", java testValidateRemovesPortHttps, ruby "...by stripping them",
        // php testValidateRemovesPortHttps, go "https and port is specified but signature is generated without it"
        { "https port 1234 removed", "https://mycompany.com:1234/myapp.php?foo=1&bar=2", Signature, true },
        // csharp TestValidateRemovesPortHttp + TestValidateAddsCustomPortHttp, python test_validation_removes_port_on_http,
        // node "should validate http urls with ports", java testValidateRemovesPortHttp, ruby "should validate http
        // urls with ports", php testValidateRemovesPortHttp, go "http and port is specified and signature is generated with it"
        { "http port 1234 kept", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=", true },
        // csharp TestValidateAddsCustomPortHttps
        { "https port 1234 kept", "https://mycompany.com:1234/myapp.php?foo=1&bar=2", "CYn1h0gLBdNxDGkKJg6hYohgeD8=", true },
        // csharp TestValidateAddsPortHttps, python test_validation_adds_port_on_https, node "...adding standard port 443",
        // java testValidateAddsPortHttps, ruby "...adding standard port 443", php testValidateAddsPortHttps,
        // go "https and port is specified and signature is generated with it"
        { "https 443 added", Url, "kvajT1Ptam85bY51eRf/AJRuM3w=", true },
        // csharp TestValidateAddsPortHttp, python test_validation_adds_port_on_http, node "...adding standard port 80",
        // java testValidateAddsPortHttp + testValidateWithDifferentProtocols, ruby "...adding standard port 80",
        // php testValidateAddsPortHttp, go "http and port port is specified but signature is generated without it"
        { "http 80 added", "http://mycompany.com/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4=", true },
        // csharp TestValidateDictionaryMixedCase
        { "mixed-case host", "https://MyCompany.com/myapp.php?foo=1&bar=2", "g9IN/x4Cft2g517EjYvEvM/W7LU=", true },
        // csharp TestValidateDictionaryMixedCaseWithPort
        { "mixed-case host with port", "https://MyCompany.com:1234/myapp.php?foo=1&bar=2", "PCqOZm8cnu/L6+u5i5fuEd+Iac4=", true },
        // csharp TestValidateDictionaryMixedCaseAddsPortHttp
        { "mixed-case host over http", "http://MyCompany.com/myapp.php?foo=1&bar=2", "XY7AlKOKL6im4yWyX84gldUrtis=", true },
        // csharp TestValidateDictionaryMixedCaseWithIncorrectSignature (the host's case is signed)
        { "mixed-case host, lower-case signature", "https://MyCompany.com/myapp.php?foo=1&bar=2", Signature, false },
        // csharp TestValidateDictionaryMixedCaseWithPortWithIncorrectSignature
        { "mixed-case host with port, lower-case signature", "https://MyCompany.com:1234/myapp.php?foo=1&bar=2", Signature, false },
        // csharp TestValidateDictionaryMixedCaseAddsPortHttpWithIncorrectSignature
        { "mixed-case host over http, https signature", "http://MyCompany.com/myapp.php?foo=1&bar=2", Signature, false },
        // csharp TestValidateCredentialsArePreserved
        { "credentials kept", "http://username:password@MyCompany.com/myapp.php?foo=1&bar=2", "PJ08CxXr7KLPjEQCTc8LkUSMwSM=", true },
        // csharp TestValidateCredentialsArePreservedUpperCaseScheme (the scheme's case is signed too)
        { "upper-case scheme", "HTTP://username:password@MyCompany.com/myapp.php?foo=1&bar=2", "hy/l8pca+LFms4cvRdv8uiP6NGc=", true },
        // csharp TestValidateCredentialsArePreservedMixedCaseCreds
        { "mixed-case credentials", "http://Username:Password@MyCompany.com/myapp.php?foo=1&bar=2", "SkTSKyDJH9kUlhItI0slbgZ1UsI=", true },
        // node "should validate urls with credentials", ruby same, php testBuildUrlCreds
        { "user and password", "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", "CukzLTc1tT5dXEDIHm/tKBanW10=", true },
        // node "should validate urls with just username", ruby same, php testBuildUrlWithUser
        { "user only", "https://user@mycompany.com/myapp.php?foo=1&bar=2", "2YRLlVAflCqxaNicjMpJcSTgzSs=", true },
        // node "should validate urls with credentials by adding port", ruby same, php testBuildUrlCredsAddsPort
        { "credentials with 443 added", "https://user:pass@mycompany.com/myapp.php?foo=1&bar=2", "ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=", true },
        // node "should validate urls with special characters"
        { "apostrophe and plus in the query", Url + "&Body=It's+amazing", "dsq4Ehbj6cs+KdTkpF5sSSplOWw=", true },
        // node "should send 403 for invalid signatures" (middleware: a query parameter Twilio did not sign)
        { "unsigned extra query parameter", Url + "&somethingUnexpected=true", Signature, false },
        // java testValidateWithNoQueryParams
        { "no query string", "https://mycompany.com/myapp.php", "1xaxFBvyzXYvWplzNOSs28HWO94=", true },
        // java testValidateIgnoresNonTwilioQueryParams (query parameters are part of the signed URL)
        {
            "extra query parameter that was signed",
            "https://mycompany.com/myapp.php?foo=1&bar=2&type=thiswontbeusedinthesignaturegeneratorandsoshouldbeignored",
            "hYkNsTBttoNGkyCS0p+wWmQoRTg=", true
        },
        // java testValidateWithUrlEncodedQueryParams (escapes are signed as sent, not decoded)
        { "percent-escapes in the query", "https://mycompany.com/myapp.php?foo=hello%20world&bar=test%2Bvalue", "er2tvAP1Wx+iuTTE2BPgvEaN1cs=", true },
        // java testValidateWithInternationalCharactersInUrl (UTF-8 of the URL as given)
        { "non-ASCII path and query", "https://mycompany.com/webhook/España?año=2023", "G/Hx6mqqnjUNlPAoi2Sp9bGst0g=", true },
        // java testValidateWithMalformedUrlStillWorks
        { "double slash after explicit 443", "https://mycompany.com:443//myapp.php?foo=1&bar=2", "A9lH3u16NjyiiM/+wylw5rirFUs=", true },
    };

    [Theory]
    [MemberData(nameof(CallFieldVectors))]
    public void Official_vectors_with_the_call_fields_give_the_sdks_outcome(string name, string url, string? signature, bool expected)
    {
        Assert.True(expected == _validator.Validate(url, CallFields(), signature), name);
    }

    // csharp TestValidateDictionary, python test_compute_signature, ruby "should build a correct signature".
    // Also PROTOCOLS.md §1.
    [Fact]
    public void Compute_reproduces_the_documented_signature()
    {
        Assert.Equal(Signature, TwilioSignature.Compute(Token, Url, CallFields()));
        Assert.Equal(Signature, new TwilioRequestSigner(Token).Sign(Url, CallFields()));
    }

    public static TheoryData<string, KeyValuePair<string, string>[], string> FieldVectors => new()
    {
        // python test_compute_signature_duplicate_multi_dict, php testValidateWithArrayAndDuplicates,
        // node "should validate request body with multiple params and values": keys sorted, values sorted, duplicates once
        {
            "repeated key with a duplicate value",
            Fields(("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        },
        // node "should validate request body with an array parameter"
        { "array parameter", Fields(("MessagingBinding.Address", "+1325xxxxxxx"), ("MessagingBinding.Address", "+1415xxxxxxx")), "83O6e2vORAoJHUNzJjDWN1jz+BA=" },
        // node "...an array parameter regardless of the position of values in the array"
        { "array parameter, other order", Fields(("MessagingBinding.Address", "+1415xxxxxxx"), ("MessagingBinding.Address", "+1325xxxxxxx")), "83O6e2vORAoJHUNzJjDWN1jz+BA=" },
        // java testValidateWithEmptyParams
        { "no fields", Fields(), "zYQTYrRWXE7LtzbG4PfP7/bkkGo=" },
        // java testValidateWithSpecialCharactersInParams
        {
            "special and non-ASCII characters in values",
            Fields(("Message", "Hello & goodbye! @#$%^*()"), ("From", "+1 (415) 867-5309"), ("Special", "unicode: ñáéíóú")),
            "dCPiR4WtQ6QFN6pJh81CtlCcWLQ="
        },
        // java testValidateWithEmptyParameterValues
        { "empty values", Fields(("Digits", ""), ("CallSid", "CA1234567890ABCDE"), ("EmptyParam", "")), "9HHp/OqQMEwdrVebHDdA/+tqjX8=" },
        // java testValidateWithNullParameterValues (null is signed as empty)
        { "null values", Fields(("Digits", null!), ("CallSid", "CA1234567890ABCDE"), ("NullParam", null!)), "L9lTTwIlxM1xGAtLRwhOSZggRhM=" },
        // java testValidateParameterKeySorting
        { "keys sorted", Fields(("Zebra", "last"), ("Alpha", "first"), ("Beta", "second"), ("Gamma", "third")), "enveUe73ZTVLAekHxez3Qx6JuuQ=" },
        // java testValidateWithCaseSensitiveParameterKeys (ordinal: upper case sorts before lower case)
        { "case-sensitive keys", Fields(("callSid", "lowercase"), ("CallSid", "uppercase"), ("CALLSID", "allcaps")), "jDK7WKT8wiNrwggd4ceTv4e1MJ4=" },
    };

    [Theory]
    [MemberData(nameof(FieldVectors))]
    public void Official_vectors_with_their_own_fields_are_computed_and_accepted(string name, KeyValuePair<string, string>[] fields, string signature)
    {
        Assert.True(signature == TwilioSignature.Compute(Token, Url, fields), name);
        Assert.True(_validator.Validate(Url, fields, signature), name);
    }

    // java testValidateWithNullParams: no field collection at all is the same as no fields.
    [Fact]
    public void A_null_field_list_is_validated_as_no_fields()
    {
        Assert.True(_validator.Validate(Url, null!, "zYQTYrRWXE7LtzbG4PfP7/bkkGo="));
    }

    // python test_compute_signature_duplicate_query_dict: the same fields, arriving as a form body.
    [Fact]
    public void Repeated_fields_parsed_from_a_form_body_sign_like_the_official_vector()
    {
        Assert.True(FormBody.TryParse("Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=1234"u8, out var fields));
        Assert.Equal("IK+Dwps556ElfBT0I3Rgjkr1wJU=", TwilioSignature.Compute(Token, Url, fields));
        Assert.True(_validator.Validate(Url, fields, "IK+Dwps556ElfBT0I3Rgjkr1wJU="));
    }

    // csharp TestValidateBody, python test_compute_hash_unicode, node "should validate post body correctly",
    // java testValidateBody, ruby "should hash body correctly", php testValidateBody
    [Fact]
    public void The_signer_puts_the_lowercase_hex_sha256_of_the_body_in_the_url()
    {
        var (url, signature) = new TwilioRequestSigner(Token).SignJsonBody(Url, Encoding.UTF8.GetBytes(Body));

        Assert.Equal(Url + "&bodySHA256=" + BodyHash, url);
        Assert.Equal("a9nBmqA0ju/hNViExpshrM61xv4=", signature);
        Assert.Equal(BodyHash, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Body))));
    }

    public static TheoryData<string, string, string, string, bool> JsonVectors => new()
    {
        // name, url, body, signature, expected
        // csharp TestValidateWithBody, python test_validation_of_body_succeeds, node "should validate request body when
        // given" + middleware "should validate post body if given a query param", java testValidateWithBody,
        // ruby "should validate requests with body correctly", php testValidateWithBody, go ValidateBody "succeeds"
        // Also PROTOCOLS.md §1.
        { "documented JSON vector", Url + "&bodySHA256=" + BodyHash, Body, "a9nBmqA0ju/hNViExpshrM61xv4=", true },
        // csharp TestValidateWithOnlyHash, node "should validate request body with only sha param",
        // java testValidateWithNoOtherParameters, ruby "should validate with no other GET parameters",
        // go "there's no other parameters and the signature is right"
        { "bodySHA256 is the only query parameter", "https://mycompany.com/myapp.php?bodySHA256=" + BodyHash, Body, "y77kIzt2vzLz71DgmJGsen2scGs=", true },
        // node "should validate request body when empty" (the signature is over the :443 form of the URL)
        { "empty JSON object", Url + "&bodySHA256=" + EmptyObjectHash, "{}", "Ldidvp12m26NI7eqEvxnEpkd9Hc=", true },
        // csharp TestValidateWithBodyWithoutSignature, node "should fail validation if given body but no bodySHA256 param",
        // java testValidateBodyWithoutSignature, ruby "should fail validation with body but no signature",
        // php testValidateBodyWithoutSignature, go ValidateBody "returns false when validation fails"
        { "no bodySHA256 in the URL", Url, Body, Signature, false },
        // node middleware "should fail validation of post body with wrong hash" (last hex digit cut off)
        { "truncated bodySHA256", Url + "&bodySHA256=" + BodyHash[..^1], Body, "a9nBmqA0ju/hNViExpshrM61xv4=", false },
    };

    [Theory]
    [MemberData(nameof(JsonVectors))]
    public void Official_json_vectors_give_the_sdks_outcome(string name, string url, string body, string signature, bool expected)
    {
        Assert.True(expected == _validator.ValidateJsonBody(url, Encoding.UTF8.GetBytes(body), signature), name);
    }

    // node "should fail to validate with wrong sha", java testValidateBodyFailsWhenWrong: a correctly signed URL whose
    // bodySHA256 is not the body's hash is rejected.
    [Fact]
    public void A_signed_url_whose_body_hash_is_wrong_is_rejected()
    {
        var url = Url + "&bodySHA256=WRONG_HASH";
        var signature = TwilioSignature.Compute(Token, url, []);
        Assert.False(_validator.ValidateJsonBody(url, Encoding.UTF8.GetBytes(Body), signature));

        var wrongHex = Url + "&bodySHA256=" + new string('0', 64);
        Assert.False(_validator.ValidateJsonBody(wrongHex, Encoding.UTF8.GetBytes(Body), TwilioSignature.Compute(Token, wrongHex, [])));
    }

    public static TheoryData<string, string, string, bool> NodeWebhookVectors => new()
    {
        // twilio-node spec/unit/webhooks/webhooks.spec.js, auth token "s3cr3t", no fields:
        // name, URL Twilio signed, URL we validate, expected
        { "signature URL does not match the target URL", "https://example.com/path?test=param", "https://example.com/path?test=param2", false },
        { "signed with port, target with port", "https://example.com:443/path?test=param", "https://example.com:443/path?test=param", true },
        { "signed with port, target without port", "https://example.com:443/path?test=param", "https://example.com/path?test=param", true },
        { "signed without port, target without port", "https://example.com/path?test=param", "https://example.com/path?test=param", true },
        { "signed without port, target with port", "https://example.com/path?test=param", "https://example.com:443/path?test=param", true },
        { "unescaped quote signed, unescaped quote received", "https://example.com/path?test=param'WithQuote", "https://example.com/path?test=param'WithQuote", true },
        { "unescaped quote signed, escaped quote received", "https://example.com/path?test=param'WithQuote", "https://example.com/path?test=param%27WithQuote", true },
        { "escaped quote signed, unescaped quote received", "https://example.com/path?test=param%27WithQuote", "https://example.com/path?test=param'WithQuote", true },
        { "escaped quote signed, escaped quote received", "https://example.com/path?test=param%27WithQuote", "https://example.com/path?test=param%27WithQuote", true },
    };

    [Theory]
    [MemberData(nameof(NodeWebhookVectors))]
    public void Node_webhook_vectors_give_the_sdks_outcome(string name, string signedUrl, string targetUrl, bool expected)
    {
        var signature = TwilioSignature.Compute("s3cr3t", signedUrl, []);
        Assert.True(expected == new TwilioRequestValidator("s3cr3t").Validate(targetUrl, [], signature), name);
    }

    // csharp TestIsThreadSafe: one validator shared by many threads.
    [Fact]
    public void One_validator_can_be_used_from_many_threads_at_once()
    {
        var results = new bool[2000];
        Parallel.For(0, results.Length, i =>
        {
            var url = i % 2 == 0 ? Url : "https://mycompany.com:1234/myapp.php?foo=1&bar=2";
            results[i] = _validator.Validate(url, CallFields(), Signature);
        });
        Assert.All(results, Assert.True);
    }
}
