using System.Text;
using BenchmarkDotNet.Attributes;
using VoiceKraliki.Telephony.Signatures;

namespace VoiceKraliki.Benchmarks;

/// <summary>
/// The per-request cost of checking a provider's webhook signature, on realistic inputs: a 15-field
/// Twilio status callback, a 1 KiB Twilio JSON body, and a 1 KiB Telnyx call.answered event.
/// </summary>
[MemoryDiagnoser]
public class SignatureBenchmarks
{
    private const string AuthToken = "0123456789abcdef0123456789abcdef";
    private const string StatusCallbackUrl = "https://voice.example.com/webhooks/twilio/status?tenant=acme";
    private const string JsonUrl = "https://voice.example.com/webhooks/twilio/events?tenant=acme";

    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    private readonly TwilioRequestValidator _twilio = new(AuthToken);
    private KeyValuePair<string, string>[] _statusCallback = [];
    private string _statusCallbackSignature = "";
    private byte[] _statusCallbackBody = [];
    private byte[] _twilioJsonBody = [];
    private string _twilioJsonUrl = "";
    private string _twilioJsonSignature = "";

    private TelnyxSignatureVerifier _telnyx = null!;
    private byte[] _telnyxBody = [];
    private string _telnyxSignature = "";
    private string _telnyxTimestamp = "";

    [GlobalSetup]
    public void Setup()
    {
        _statusCallback =
        [
            new("AccountSid", "AC0123456789abcdef0123456789abcdef"), new("ApiVersion", "2010-04-01"),
            new("CallSid", "CA0123456789abcdef0123456789abcdef"), new("CallStatus", "completed"), new("Called", "+18005551212"),
            new("Caller", "+14158675309"), new("CallDuration", "42"), new("CallbackSource", "call-progress-events"),
            new("Direction", "outbound-api"), new("From", "+14158675309"), new("SequenceNumber", "3"),
            new("Timestamp", "Tue, 10 Jan 2023 10:00:00 +0000"), new("To", "+18005551212"), new("ToCountry", "US"),
            new("AnsweredBy", "human"),
        ];
        var signer = new TwilioRequestSigner(AuthToken);
        _statusCallbackSignature = signer.Sign(StatusCallbackUrl, _statusCallback);
        _statusCallbackBody = Encoding.ASCII.GetBytes(FormBody.Encode(_statusCallback));

        _twilioJsonBody = Kibibyte("{\"event\":\"call.status\",\"call_sid\":\"CA0123456789abcdef0123456789abcdef\",\"padding\":\"");
        (_twilioJsonUrl, _twilioJsonSignature) = signer.SignJsonBody(JsonUrl, _twilioJsonBody);

        var telnyxSigner = new TelnyxWebhookSigner(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        _telnyx = new TelnyxSignatureVerifier(telnyxSigner.PublicKeyBase64, new FixedClock(Now));
        _telnyxBody = Kibibyte(
            "{\"data\":{\"event_type\":\"call.answered\",\"id\":\"0ccc7b54-4df3-4bca-a65a-3da1ecc777f0\",\"occurred_at\":"
            + "\"2023-11-14T22:13:20.000000Z\",\"payload\":{\"call_control_id\":\"v3:abc\",\"call_leg_id\":\"428c31b6\","
            + "\"call_session_id\":\"428c31b6-abf3\",\"client_state\":\"aGF2ZSBhIG5pY2UgZGF5ID1d\",\"connection_id\":\"7267xxxxxxxxxxxxxx\","
            + "\"from\":\"+13125550100\",\"to\":\"+13125550199\",\"direction\":\"incoming\",\"state\":\"answered\",\"padding\":\"");
        (_telnyxSignature, _telnyxTimestamp) = telnyxSigner.Sign(_telnyxBody, Now);

        if (!TwilioForm() || !TwilioFormParsedFromBody() || !TwilioJson() || Telnyx() != TelnyxVerificationResult.Valid)
        {
            throw new InvalidOperationException("A benchmark input does not verify; the numbers would measure the failure path.");
        }
    }

    [Benchmark(Description = "Twilio form: validate 15-field status callback")]
    public bool TwilioForm() => _twilio.Validate(StatusCallbackUrl, _statusCallback, _statusCallbackSignature);

    [Benchmark(Description = "Twilio form: parse body + validate")]
    public bool TwilioFormParsedFromBody() =>
        FormBody.TryParse(_statusCallbackBody, out var fields) && _twilio.Validate(StatusCallbackUrl, fields, _statusCallbackSignature);

    [Benchmark(Description = "Twilio JSON: validate 1 KiB body")]
    public bool TwilioJson() => _twilio.ValidateJsonBody(_twilioJsonUrl, _twilioJsonBody, _twilioJsonSignature);

    [Benchmark(Description = "Telnyx Ed25519: verify 1 KiB call.answered")]
    public TelnyxVerificationResult Telnyx() => _telnyx.Verify(_telnyxBody, _telnyxSignature, _telnyxTimestamp);

    /// <summary>Pads a JSON prefix with a string value so the whole document is exactly 1024 bytes.</summary>
    private static byte[] Kibibyte(string prefix)
    {
        var closing = prefix.StartsWith("{\"data\"", StringComparison.Ordinal) ? "\"},\"record_type\":\"event\"}}" : "\"}";
        return Encoding.ASCII.GetBytes(prefix + new string('x', 1024 - prefix.Length - closing.Length) + closing);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
