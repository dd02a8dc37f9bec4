using System.Net;
using System.Net.Sockets;
using System.Text;
using VoiceKraliki.Telephony.Signatures;

namespace VoiceKraliki.IntegrationTests.Support;

/// <summary>
/// Webhooks signed exactly as Twilio and Telnyx sign them, sent through the gateway from a chosen
/// loopback address (127.0.x.y), so that each test is its own client for the rate limiter.
/// </summary>
public sealed class ProviderWebhooks(Uri gateway)
{
    private static int _nextAddress = 20;

    public static string NextAddress()
    {
        var n = Interlocked.Increment(ref _nextAddress);
        return $"127.0.{n / 250}.{n % 250 + 2}";
    }

    public static string NewCallSid() => "CA" + Guid.NewGuid().ToString("N");

    public HttpClient ClientFrom(string address)
    {
        var local = IPAddress.Parse(address);
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpRequestMessage TwilioStatus(string callSid, string status, int sequence) =>
        TwilioRequest("/webhooks/twilio/status", [
            new("AccountSid", "AC00000000000000000000000000000001"), new("ApiVersion", "2010-04-01"), new("CallSid", callSid),
            new("CallStatus", status), new("Direction", "inbound"), new("From", "+15005550006"), new("To", "+15005550001"),
            new("SequenceNumber", sequence.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("Timestamp", DateTimeOffset.UtcNow.ToString("r")), new("CallbackSource", "call-progress-events")]);

    public HttpRequestMessage TwilioRequest(string path, KeyValuePair<string, string>[] fields)
    {
        var url = $"{gateway.GetLeftPart(UriPartial.Authority)}{path}";
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Form(Encoding.UTF8.GetBytes(FormBody.Encode(fields))) };
        request.Headers.Add(TwilioSignature.HeaderName, new TwilioRequestSigner(SystemFixture.TwilioAuthToken).Sign(url, fields));
        return request;
    }

    public HttpRequestMessage Forged(string callSid)
    {
        var request = TwilioStatus(callSid, "completed", 9);
        request.Headers.Remove(TwilioSignature.HeaderName);
        request.Headers.Add(TwilioSignature.HeaderName, Convert.ToBase64String(new byte[20]));
        return request;
    }

    public static HttpRequestMessage TelnyxEvent(string callControlId, string eventType, DateTimeOffset signedAt, Guid? eventId = null)
    {
        var occurred = signedAt.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", System.Globalization.CultureInfo.InvariantCulture);
        var json = System.Text.Json.JsonSerializer.Serialize(new
        {
            data = new
            {
                record_type = "event",
                event_type = eventType,
                id = (eventId ?? Guid.NewGuid()).ToString(),
                occurred_at = occurred,
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
                    start_time = occurred,
                },
            },
            meta = new { attempt = 1, delivered_to = "http://example.com" },
        });
        var body = Encoding.UTF8.GetBytes(json);
        var (signature, timestamp) = SystemFixture.TelnyxSigner.Sign(body, signedAt);
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/telnyx") { Content = content };
        request.Headers.Add(TelnyxSignatureVerifier.SignatureHeader, signature);
        request.Headers.Add(TelnyxSignatureVerifier.TimestampHeader, timestamp);
        return request;
    }

    public static ByteArrayContent Form(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new("application/x-www-form-urlencoded");
        return content;
    }
}
