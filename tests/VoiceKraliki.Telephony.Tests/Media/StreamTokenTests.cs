using System.Buffers.Text;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Media;

namespace VoiceKraliki.Telephony.Tests.Media;

public class StreamTokenTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    private readonly FakeTime _time = new(Now);

    private StreamTokenService Service(byte[]? key = null) => new(key ?? Key, _time);

    [Fact]
    public void Issued_token_validates_and_returns_its_claims()
    {
        var service = Service();
        var token = service.Issue(TelephonyProvider.Telnyx, "v3:call-control-id", "session-1", TimeSpan.FromMinutes(2));

        Assert.Equal(StreamTokenValidation.Valid, service.Validate(token, out var claims));
        Assert.Equal(new StreamTokenClaims(TelephonyProvider.Telnyx, "v3:call-control-id", "session-1", Now.AddMinutes(2)), claims);
    }

    [Fact]
    public void Token_without_session_round_trips_a_null_session()
    {
        var service = Service();
        var token = service.Issue(TelephonyProvider.Twilio, "CA0123456789abcdef0123456789abcdef", null, TimeSpan.FromSeconds(30));

        Assert.Equal(StreamTokenValidation.Valid, service.Validate(token, out var claims));
        Assert.Equal(TelephonyProvider.Twilio, claims!.Provider);
        Assert.Null(claims.SessionId);
    }

    [Fact]
    public void Token_is_two_unpadded_base64url_parts_safe_in_a_url_or_xml_attribute()
    {
        var token = Service().Issue(TelephonyProvider.Twilio, "CA/with+odd=chars&<>", null, TimeSpan.FromMinutes(1));

        var parts = token.Split('.');
        Assert.Equal(2, parts.Length);
        Assert.All(token, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.', $"'{c}'"));
        Assert.Equal(32, Base64Url.DecodeFromChars(parts[1]).Length);
    }

    [Fact]
    public void Token_expires_when_its_lifetime_has_passed()
    {
        var service = Service();
        var token = service.Issue(TelephonyProvider.Twilio, "CA1", null, TimeSpan.FromSeconds(60));

        _time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(StreamTokenValidation.Valid, service.Validate(token, out _));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(StreamTokenValidation.Expired, service.Validate(token, out var claims));
        Assert.Null(claims);
    }

    [Fact]
    public void Tampered_payload_byte_is_a_bad_signature()
    {
        var service = Service();
        var token = service.Issue(TelephonyProvider.Twilio, "CA1", null, TimeSpan.FromMinutes(1));

        var tampered = Replace(token, token.IndexOf('.') / 2);

        Assert.Equal(StreamTokenValidation.BadSignature, service.Validate(tampered, out var claims));
        Assert.Null(claims);
    }

    [Fact]
    public void Tampered_signature_byte_is_a_bad_signature()
    {
        var service = Service();
        var token = service.Issue(TelephonyProvider.Twilio, "CA1", null, TimeSpan.FromMinutes(1));

        Assert.Equal(StreamTokenValidation.BadSignature, service.Validate(Replace(token, token.IndexOf('.') + 5), out _));
    }

    [Fact]
    public void Token_for_another_call_cannot_be_made_by_swapping_the_payload()
    {
        var service = Service();
        var mine = service.Issue(TelephonyProvider.Twilio, "CA1", null, TimeSpan.FromMinutes(1));
        var forged = Base64Url.EncodeToString(Encoding.UTF8.GetBytes("""{"v":1,"p":"Twilio","c":"CA2","exp":9999999999}"""))
            + mine[mine.IndexOf('.')..];

        Assert.Equal(StreamTokenValidation.BadSignature, service.Validate(forged, out _));
    }

    [Fact]
    public void Token_signed_with_another_key_is_a_bad_signature()
    {
        var other = Service(Enumerable.Repeat((byte)7, 32).ToArray())
            .Issue(TelephonyProvider.Twilio, "CA1", null, TimeSpan.FromMinutes(1));

        Assert.Equal(StreamTokenValidation.BadSignature, Service().Validate(other, out _));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData(".")]
    [InlineData("abc.")]
    [InlineData(".abc")]
    [InlineData("a.b.c")]
    [InlineData("!!!.???")]
    [InlineData("eyJ2IjoxfQ.c2hvcnQ")]
    [InlineData("eyJ2IjoxfQ==.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    public void Garbage_is_malformed(string? token)
    {
        Assert.Equal(StreamTokenValidation.Malformed, Service().Validate(token, out var claims));
        Assert.Null(claims);
    }

    [Fact]
    public void Oversized_token_is_malformed_without_being_decoded()
    {
        Assert.Equal(StreamTokenValidation.Malformed, Service().Validate(new string('A', 100_000) + ".AAAA", out _));
    }

    [Fact]
    public void Validly_signed_payload_that_is_not_ours_is_malformed()
    {
        var payload = Encoding.UTF8.GetBytes("""{"hello":"world"}""");
        var mac = System.Security.Cryptography.HMACSHA256.HashData(Key, payload);
        var token = Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(mac);

        Assert.Equal(StreamTokenValidation.Malformed, Service().Validate(token, out _));
    }

    [Fact]
    public void Random_strings_never_make_validation_throw()
    {
        var service = Service();
        var valid = service.Issue(TelephonyProvider.Telnyx, "v3:abc", "s", TimeSpan.FromMinutes(1));
        var tokens = Gen.OneOf(
                ArbMap.Default.GeneratorFor<string>(),
                Gen.Zip(Gen.Choose(0, valid.Length - 1), ArbMap.Default.GeneratorFor<char>())
                    .Select(change => valid[..change.Item1] + change.Item2 + valid[(change.Item1 + 1)..]))
            .ToArbitrary();

        var property = Prop.ForAll(tokens, token =>
        {
            var result = service.Validate(token, out var claims);
            return result == StreamTokenValidation.Valid ? claims is not null : claims is null;
        });

        Check.QuickThrowOnFailure(property);
    }

    [Fact]
    public void Key_shorter_than_32_bytes_is_refused()
    {
        Assert.Throws<ArgumentException>(() => new StreamTokenService(new byte[31], _time));
        Assert.ThrowsAny<ArgumentException>(() => new StreamTokenService(null!, _time));
    }

    [Fact]
    public void Changing_the_callers_key_array_later_does_not_change_the_service()
    {
        var key = (byte[])Key.Clone();
        var service = new StreamTokenService(key, _time);
        var token = service.Issue(TelephonyProvider.Twilio, "CA1", null, TimeSpan.FromMinutes(1));

        Array.Clear(key);

        Assert.Equal(StreamTokenValidation.Valid, service.Validate(token, out _));
    }

    [Fact]
    public void Issue_refuses_an_empty_call_id_or_a_lifetime_that_is_not_positive()
    {
        var service = Service();

        Assert.ThrowsAny<ArgumentException>(() => service.Issue(TelephonyProvider.Twilio, "", null, TimeSpan.FromMinutes(1)));
        Assert.ThrowsAny<ArgumentException>(() => service.Issue(TelephonyProvider.Twilio, "CA1", null, TimeSpan.Zero));
        Assert.ThrowsAny<ArgumentException>(() => service.Issue(TelephonyProvider.Twilio, new string('a', 257), null, TimeSpan.FromMinutes(1)));
    }

    private static string Replace(string token, int index)
    {
        var replacement = token[index] == 'A' ? 'B' : 'A';
        return token[..index] + replacement + token[(index + 1)..];
    }

    private sealed class FakeTime(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
