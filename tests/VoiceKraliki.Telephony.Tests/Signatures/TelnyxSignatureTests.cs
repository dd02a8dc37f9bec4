using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Org.BouncyCastle.Math.EC.Rfc8032;
using VoiceKraliki.Telephony.Signatures;
using static VoiceKraliki.Telephony.Tests.Signatures.SignatureGenerators;

namespace VoiceKraliki.Telephony.Tests.Signatures;

public class TelnyxSignatureTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    // A fixed seed makes fixed vectors: Ed25519 signing is deterministic (RFC 8032 §5.1.6).
    private static readonly byte[] FixedSeed = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
    private static readonly TelnyxWebhookSigner Signer = new(FixedSeed);

    private static readonly byte[] CallAnswered = Encoding.UTF8.GetBytes(
        "{\"data\":{\"event_type\":\"call.answered\",\"id\":\"0ccc7b54-4df3-4bca-a65a-3da1ecc777f0\","
        + "\"occurred_at\":\"2023-11-14T22:13:20.000000Z\",\"payload\":{\"call_control_id\":\"v3:abc\","
        + "\"from\":\"+13125550100\",\"to\":\"+13125550199\"},\"record_type\":\"event\"}}");

    private static TelnyxSignatureVerifier Verifier(DateTimeOffset now, TimeSpan? tolerance = null) =>
        new(Signer.PublicKeyBase64, new FakeTimeProvider(now), tolerance);

    public static TheoryData<string, string, string, string> Rfc8032Vectors => new()
    {
        // RFC 8032 §7.1: secret key, public key, message, signature (hex)
        {
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
        },
        {
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"
        },
        {
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"
        },
    };

    [Theory]
    [MemberData(nameof(Rfc8032Vectors))]
    public void BouncyCastle_reproduces_the_rfc8032_test_vectors(string secretHex, string publicHex, string messageHex, string signatureHex)
    {
        var secret = Convert.FromHexString(secretHex);
        var message = Convert.FromHexString(messageHex);

        var publicKey = new byte[Ed25519.PublicKeySize];
        Ed25519.GeneratePublicKey(secret, 0, publicKey, 0);
        Assert.Equal(publicHex, Convert.ToHexStringLower(publicKey));

        var signature = new byte[Ed25519.SignatureSize];
        Ed25519.Sign(secret, 0, message, 0, message.Length, signature, 0);
        Assert.Equal(signatureHex, Convert.ToHexStringLower(signature));

        Assert.True(Ed25519.Verify(signature, 0, publicKey, 0, message, 0, message.Length));
        Assert.Equal(Convert.ToBase64String(publicKey), new TelnyxWebhookSigner(secret).PublicKeyBase64);
    }

    [Fact]
    public void A_fixed_seed_gives_a_fixed_key_and_signature()
    {
        // Computed independently with Python's `cryptography` (OpenSSL) from the same seed, timestamp and body.
        Assert.Equal("A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", Signer.PublicKeyBase64);

        var (signature, timestamp) = Signer.Sign(CallAnswered, Now);

        Assert.Equal("1700000000", timestamp);
        Assert.Equal("7pHa1BY/Eo+UXpYj43CKqDnwwe7CBxCUnuZYHUQsWz5iVa33Qqc6HiQSDMhuPrreHq17eMbH8P4nUvqxCzqYBg==", signature);
        Assert.Equal(TelnyxVerificationResult.Valid, Verifier(Now).Verify(CallAnswered, signature, timestamp));
    }

    [Fact]
    public void An_empty_body_is_signed_as_timestamp_and_bar()
    {
        var (signature, _) = Signer.Sign([], Now);
        Assert.Equal("jyK6y223nTBofdVbzUOENZd+HPePSlcbTXAxDFO5sF49ubr7P+10uekB8YXggkxntMboqLF9mvSUBZ9bgETsBw==", signature);
        Assert.Equal(TelnyxVerificationResult.Valid, Verifier(Now).Verify([], signature, "1700000000"));
    }

    [Fact]
    public void The_header_names_and_default_tolerance_are_telnyxs()
    {
        Assert.Equal("telnyx-signature-ed25519", TelnyxSignatureVerifier.SignatureHeader);
        Assert.Equal("telnyx-timestamp", TelnyxSignatureVerifier.TimestampHeader);
        Assert.Equal(TimeSpan.FromSeconds(300), TelnyxSignatureVerifier.DefaultTolerance);
    }

    [Fact]
    public void A_tampered_body_is_an_invalid_signature()
    {
        var (signature, timestamp) = Signer.Sign(CallAnswered, Now);
        var tampered = (byte[])CallAnswered.Clone();
        tampered[^3] ^= 0x01;
        Assert.Equal(TelnyxVerificationResult.InvalidSignature, Verifier(Now).Verify(tampered, signature, timestamp));
    }

    [Fact]
    public void A_tampered_timestamp_is_an_invalid_signature_even_when_it_is_fresh()
    {
        var (signature, _) = Signer.Sign(CallAnswered, Now);
        Assert.Equal(TelnyxVerificationResult.InvalidSignature, Verifier(Now).Verify(CallAnswered, signature, "1700000001"));
        Assert.Equal(TelnyxVerificationResult.InvalidSignature, Verifier(Now).Verify(CallAnswered, signature, "01700000000"));
    }

    [Fact]
    public void A_tampered_signature_byte_is_an_invalid_signature()
    {
        var (signature, timestamp) = Signer.Sign(CallAnswered, Now);
        var bytes = Convert.FromBase64String(signature);
        bytes[10] ^= 0x80;
        Assert.Equal(TelnyxVerificationResult.InvalidSignature, Verifier(Now).Verify(CallAnswered, Convert.ToBase64String(bytes), timestamp));
    }

    [Fact]
    public void A_signature_from_another_key_is_invalid()
    {
        var (signature, timestamp) = TelnyxWebhookSigner.Generate().Sign(CallAnswered, Now);
        Assert.Equal(TelnyxVerificationResult.InvalidSignature, Verifier(Now).Verify(CallAnswered, signature, timestamp));
    }

    [Theory]
    [InlineData(0, TelnyxVerificationResult.Valid)]
    [InlineData(299, TelnyxVerificationResult.Valid)]
    [InlineData(300, TelnyxVerificationResult.Valid)]
    [InlineData(301, TelnyxVerificationResult.TimestampTooOld)]
    [InlineData(86_400, TelnyxVerificationResult.TimestampTooOld)]
    [InlineData(-300, TelnyxVerificationResult.Valid)]
    [InlineData(-301, TelnyxVerificationResult.TimestampInFuture)]
    [InlineData(-86_400, TelnyxVerificationResult.TimestampInFuture)]
    public void The_timestamp_must_be_within_300_seconds_of_now_either_way(int ageSeconds, TelnyxVerificationResult expected)
    {
        var (signature, timestamp) = Signer.Sign(CallAnswered, Now);
        var verifier = Verifier(Now.AddSeconds(ageSeconds));
        Assert.Equal(expected, verifier.Verify(CallAnswered, signature, timestamp));
    }

    [Fact]
    public void A_message_goes_stale_as_the_clock_moves_on()
    {
        var (signature, timestamp) = Signer.Sign(CallAnswered, Now);
        var clock = new FakeTimeProvider(Now);
        var verifier = new TelnyxSignatureVerifier(Signer.PublicKeyBase64, clock);

        clock.Advance(TimeSpan.FromSeconds(300));
        Assert.Equal(TelnyxVerificationResult.Valid, verifier.Verify(CallAnswered, signature, timestamp));
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(TelnyxVerificationResult.TimestampTooOld, verifier.Verify(CallAnswered, signature, timestamp));
    }

    [Fact]
    public void A_custom_tolerance_moves_the_boundary()
    {
        var (signature, timestamp) = Signer.Sign(CallAnswered, Now);
        var tolerance = TimeSpan.FromSeconds(60);
        Assert.Equal(TelnyxVerificationResult.Valid, Verifier(Now.AddSeconds(60), tolerance).Verify(CallAnswered, signature, timestamp));
        Assert.Equal(TelnyxVerificationResult.TimestampTooOld, Verifier(Now.AddSeconds(61), tolerance).Verify(CallAnswered, signature, timestamp));
        Assert.Equal(TelnyxVerificationResult.TimestampInFuture, Verifier(Now.AddSeconds(-61), tolerance).Verify(CallAnswered, signature, timestamp));
    }

    [Fact]
    public void A_forged_stale_message_is_reported_as_a_forgery_not_as_stale()
    {
        var (signature, _) = Signer.Sign(CallAnswered, Now);
        Assert.Equal(TelnyxVerificationResult.InvalidSignature, Verifier(Now).Verify(CallAnswered, signature, "1600000000"));
    }

    [Theory]
    [InlineData("9999999999999")]
    [InlineData("9223372036854775807")]
    public void A_signed_timestamp_beyond_any_real_date_is_in_the_future(string timestamp)
    {
        var signature = Signer.SignWithTimestamp(CallAnswered, timestamp);
        Assert.Equal(TelnyxVerificationResult.TimestampInFuture, Verifier(Now).Verify(CallAnswered, signature, timestamp));
    }

    [Fact]
    public void A_signed_timestamp_of_zero_is_too_old()
    {
        var signature = Signer.SignWithTimestamp(CallAnswered, "0");
        Assert.Equal(TelnyxVerificationResult.TimestampTooOld, Verifier(Now).Verify(CallAnswered, signature, "0"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_missing_signature_is_reported(string? signature)
    {
        Assert.Equal(TelnyxVerificationResult.MissingSignature, Verifier(Now).Verify(CallAnswered, signature, "1700000000"));
        Assert.Equal(TelnyxVerificationResult.MissingSignature, Verifier(Now).Verify(CallAnswered, signature, null));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void A_missing_timestamp_is_reported(string? timestamp)
    {
        var (signature, _) = Signer.Sign(CallAnswered, Now);
        Assert.Equal(TelnyxVerificationResult.MissingTimestamp, Verifier(Now).Verify(CallAnswered, signature, timestamp));
        Assert.Equal(TelnyxVerificationResult.MissingTimestamp, Verifier(Now).Verify(CallAnswered, "garbage", timestamp));
    }

    public static TheoryData<string> MalformedSignatures => new()
    {
        "not base64!",
        " ",
        "====",
        Convert.ToBase64String(new byte[63]),
        Convert.ToBase64String(new byte[65]),
        Convert.ToBase64String(new byte[32]),
        Convert.ToBase64String(new byte[64]).TrimEnd('='),
        Convert.ToBase64String(new byte[96]),
        new string('A', 100_000),
        "王",
    };

    [Theory]
    [MemberData(nameof(MalformedSignatures))]
    public void A_signature_that_is_not_base64_of_64_bytes_is_malformed(string signature)
    {
        Assert.Equal(TelnyxVerificationResult.MalformedSignature, Verifier(Now).Verify(CallAnswered, signature, "1700000000"));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-5")]
    [InlineData("+1700000000")]
    [InlineData(" 1700000000")]
    [InlineData("1700000000 ")]
    [InlineData("1700000000.5")]
    [InlineData("1.7e9")]
    [InlineData("0x6553F100")]
    [InlineData("１７００００００００")]
    [InlineData("99999999999999999999")]
    [InlineData("9223372036854775808")]
    [InlineData("2023-11-14T22:13:20Z")]
    public void A_timestamp_that_is_not_plain_unix_seconds_is_malformed(string timestamp)
    {
        var (signature, _) = Signer.Sign(CallAnswered, Now);
        Assert.Equal(TelnyxVerificationResult.MalformedTimestamp, Verifier(Now).Verify(CallAnswered, signature, timestamp));
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==")]
    [InlineData("")]
    public void A_public_key_that_is_not_base64_of_32_bytes_is_a_configuration_error(string key)
    {
        Assert.Throws<ArgumentException>(() => new TelnyxSignatureVerifier(key, TimeProvider.System));
    }

    [Fact]
    public void Null_constructor_arguments_and_a_negative_tolerance_are_configuration_errors()
    {
        Assert.Throws<ArgumentNullException>(() => new TelnyxSignatureVerifier(null!, TimeProvider.System));
        Assert.Throws<ArgumentNullException>(() => new TelnyxSignatureVerifier(Signer.PublicKeyBase64, null!));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new TelnyxSignatureVerifier(Signer.PublicKeyBase64, TimeProvider.System, TimeSpan.FromSeconds(-1)));
    }

    [Fact]
    public void A_public_key_that_is_not_a_curve_point_rejects_every_message()
    {
        // 32 bytes of 0xFF is a y-coordinate above the field prime: it decodes to no point.
        var verifier = new TelnyxSignatureVerifier(Convert.ToBase64String(Enumerable.Repeat((byte)0xFF, 32).ToArray()), new FakeTimeProvider(Now));
        var (signature, timestamp) = Signer.Sign(CallAnswered, Now);
        Assert.Equal(TelnyxVerificationResult.InvalidSignature, verifier.Verify(CallAnswered, signature, timestamp));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void A_signer_seed_must_be_32_bytes(int length)
    {
        Assert.Throws<ArgumentException>(() => new TelnyxWebhookSigner(new byte[length]));
    }

    [Fact]
    public void Generated_signers_have_distinct_keys_that_verify_their_own_messages()
    {
        var a = TelnyxWebhookSigner.Generate();
        var b = TelnyxWebhookSigner.Generate();
        Assert.NotEqual(a.PublicKeyBase64, b.PublicKeyBase64);

        var (signature, timestamp) = a.Sign(CallAnswered, Now);
        Assert.Equal(TelnyxVerificationResult.Valid,
            new TelnyxSignatureVerifier(a.PublicKeyBase64, new FakeTimeProvider(Now)).Verify(CallAnswered, signature, timestamp));
    }

    [Fact]
    public void The_signer_refuses_times_before_the_unix_epoch()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Signer.Sign(CallAnswered, DateTimeOffset.UnixEpoch.AddSeconds(-1)));
    }

    private sealed record TelnyxCase(byte[] Body, long Seconds);

    private static readonly Arbitrary<TelnyxCase> Cases =
        (from body in Bytes(2048)
         from seconds in Gen.Choose(0, int.MaxValue)
         select new TelnyxCase(body, seconds)).ToArbitrary();

    private static TelnyxVerificationResult SignAndVerify(TelnyxCase c, Func<byte[], string, string, (byte[], string, string)> tamper)
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(c.Seconds);
        var (signature, timestamp) = Signer.Sign(c.Body, at);
        var (body, tamperedSignature, tamperedTimestamp) = tamper(c.Body, signature, timestamp);
        return Verifier(at).Verify(body, tamperedSignature, tamperedTimestamp);
    }

    [Fact]
    public void Any_signed_body_verifies()
    {
        Holds(Prop.ForAll(Cases, c =>
            SignAndVerify(c, (b, s, t) => (b, s, t)) == TelnyxVerificationResult.Valid));
    }

    [Fact]
    public void Changing_any_byte_of_the_body_is_an_invalid_signature()
    {
        Holds(Prop.ForAll(Cases, ByteChange.ToArbitrary(), (c, change) =>
            c.Body.Length == 0
            || SignAndVerify(c, (b, s, t) => (ChangeOneByte(b, change), s, t)) == TelnyxVerificationResult.InvalidSignature));
    }

    [Fact]
    public void Changing_any_byte_of_the_signature_is_an_invalid_signature()
    {
        Holds(Prop.ForAll(Cases, ByteChange.ToArbitrary(), (c, change) =>
            SignAndVerify(c, (b, s, t) => (b, Convert.ToBase64String(ChangeOneByte(Convert.FromBase64String(s), change)), t))
            == TelnyxVerificationResult.InvalidSignature));
    }

    [Fact]
    public void Changing_any_digit_of_the_timestamp_is_an_invalid_signature()
    {
        Holds(Prop.ForAll(Cases, ByteChange.ToArbitrary(), (c, change) =>
            SignAndVerify(c, (b, s, t) =>
            {
                var digits = t.ToCharArray();
                var position = change.Item1 % digits.Length;
                digits[position] = (char)('0' + ((digits[position] - '0' + 1 + (change.Item2 % 9)) % 10));
                return (b, s, new string(digits));
            }) == TelnyxVerificationResult.InvalidSignature));
    }

    [Fact]
    public void Arbitrary_headers_never_throw_and_never_verify()
    {
        var strings = ArbMap.Default.ArbFor<string>();
        Holds(Prop.ForAll(strings, strings, Bytes(512).ToArbitrary(), (signature, timestamp, body) =>
            Verifier(Now).Verify(body, signature, timestamp) != TelnyxVerificationResult.Valid));
    }

    [Fact]
    public void Random_64_byte_signatures_never_throw_and_never_verify()
    {
        var signatures = Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 64).Select(Convert.ToBase64String).ToArbitrary();
        Holds(Prop.ForAll(signatures, signature =>
            Verifier(Now).Verify(CallAnswered, signature, "1700000000") == TelnyxVerificationResult.InvalidSignature));
    }
}
