using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using VoiceKraliki.Telephony.Signatures;
using VoiceKraliki.WebhookIngress.Tests.Security;

namespace VoiceKraliki.WebhookIngress.Tests.Apis;

/// <summary>
/// The real webhook-ingress service in process (TestServer), on the real Redis and RabbitMQ of the
/// collection's infrastructure, with provider keys the tests sign with.
/// </summary>
internal sealed class IngressHost : WebApplicationFactory<Program>
{
    public const string TwilioAuthToken = "test-twilio-auth-token-0123456789";
    public const string PublicBaseUrl = "https://voice.example.com";

    public static readonly TelnyxWebhookSigner Telnyx = TelnyxWebhookSigner.Generate();

    private readonly Dictionary<string, string?> _settings;

    public IngressHost(string redis, string messaging, IDictionary<string, string?>? settings = null)
    {
        _settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redis,
            ["ConnectionStrings:messaging"] = messaging,
            ["Auth:ApiKeys:0:Key"] = "vk_test_0123456789abcdef0123456789",
            ["Auth:ApiKeys:0:Roles"] = "admin",
            ["Telephony:PublicBaseUrl"] = PublicBaseUrl,
            ["Telephony:Twilio:AccountSid"] = "AC00000000000000000000000000000001",
            ["Telephony:Twilio:AuthToken"] = TwilioAuthToken,
            ["Telephony:Telnyx:PublicKey"] = Telnyx.PublicKeyBase64,
            ["Webhooks:Voice:StreamTokenSigningKey"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("a test key of at least thirty-two bytes")),
            // TestServer has no peer address (IPAddress.None): let it through the Telnyx allowlist.
            ["WebhookSecurity:Allowlist:Telnyx:0"] = "0.0.0.0/0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public LogCollector Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
    }

    public static HttpRequestMessage TwilioForm(string path, IReadOnlyList<KeyValuePair<string, string>> fields, string? signatureOverride = null)
    {
        var body = FormBody.Encode(fields);
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) { Headers = { ContentType = new("application/x-www-form-urlencoded") } },
        };
        request.Headers.TryAddWithoutValidation(TwilioSignature.HeaderName,
            signatureOverride ?? new TwilioRequestSigner(TwilioAuthToken).Sign(PublicBaseUrl + path, fields));
        return request;
    }

    public static KeyValuePair<string, string>[] StatusFields(string callSid, string status, int sequence) =>
    [
        new("AccountSid", "AC00000000000000000000000000000001"), new("ApiVersion", "2010-04-01"), new("CallSid", callSid),
        new("CallStatus", status), new("Direction", "inbound"), new("From", "+15005550006"), new("To", "+15005550001"),
        new("SequenceNumber", sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Timestamp", "Mon, 23 Nov 2026 10:00:00 +0000"), new("CallbackSource", "call-progress-events"),
    ];

    public static byte[] TelnyxBody(string callControlId, string eventType, Guid id, DateTimeOffset at) => Encoding.UTF8.GetBytes(
        System.Text.Json.JsonSerializer.Serialize(new
        {
            data = new
            {
                record_type = "event",
                event_type = eventType,
                id = id.ToString(),
                occurred_at = at.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                payload = new
                {
                    call_control_id = callControlId,
                    call_leg_id = Guid.NewGuid().ToString(),
                    call_session_id = Guid.NewGuid().ToString(),
                    connection_id = "1494404757140276705",
                    from = "+15005550006",
                    to = "+15005550001",
                    direction = "incoming",
                    state = "answered",
                },
            },
        }));

    public static HttpRequestMessage TelnyxRequest(byte[] body, DateTimeOffset signedAt, string contentType = "application/json")
    {
        var (signature, timestamp) = Telnyx.Sign(body, signedAt);
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telnyx")
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new(contentType) } },
        };
        request.Headers.TryAddWithoutValidation(TelnyxSignatureVerifier.SignatureHeader, signature);
        request.Headers.TryAddWithoutValidation(TelnyxSignatureVerifier.TimestampHeader, timestamp);
        return request;
    }
}
