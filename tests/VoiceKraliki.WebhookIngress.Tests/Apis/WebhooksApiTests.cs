using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.Logging;
using VoiceKraliki.Telephony.Signatures;
using VoiceKraliki.WebhookIngress.Tests.Security;

namespace VoiceKraliki.WebhookIngress.Tests.Apis;

/// <summary>The webhook endpoints in process on the real Redis and RabbitMQ: what each kind of request is answered.</summary>
[Collection(RedisCollection.Name)]
public sealed class WebhooksApiTests(RedisFixture infrastructure)
{
    private IngressHost Host(IDictionary<string, string?>? settings = null) =>
        new(infrastructure.ConnectionString, infrastructure.App.GetConnectionString("messaging"), settings);

    private static string NewCallSid() => "CA" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_signed_status_callback_is_answered_204()
    {
        await using var host = Host();
        using var client = host.CreateClient();
        using var response = await client.SendAsync(IngressHost.TwilioForm("/webhooks/twilio/status", IngressHost.StatusFields(NewCallSid(), "ringing", 1)));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task A_twilio_json_body_signed_with_body_sha256_is_accepted_and_a_changed_body_is_refused()
    {
        await using var host = Host();
        using var client = host.CreateClient();
        var body = Encoding.UTF8.GetBytes($$"""{"CallSid":"{{NewCallSid()}}","CallStatus":"completed","From":"+15005550006","To":"+15005550001","Direction":"inbound","CallDuration":"12"}""");
        var (url, signature) = new TwilioRequestSigner(IngressHost.TwilioAuthToken).SignJsonBody(IngressHost.PublicBaseUrl + "/webhooks/twilio/status", body);
        var pathAndQuery = new Uri(url).PathAndQuery;

        using (var accepted = await client.SendAsync(Json(pathAndQuery, body, signature)))
        {
            Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        }

        body[^2] ^= 0x01;
        using var refused = await client.SendAsync(Json(pathAndQuery, body, signature));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData(null)]
    public async Task A_twilio_webhook_with_the_wrong_content_type_gets_415(string? contentType)
    {
        await using var host = Host();
        using var client = host.CreateClient();
        var request = IngressHost.TwilioForm("/webhooks/twilio/status", IngressHost.StatusFields(NewCallSid(), "ringing", 1));
        request.Content!.Headers.ContentType = contentType is null ? null : new(contentType);
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_telnyx_webhook_as_form_gets_415()
    {
        await using var host = Host();
        using var client = host.CreateClient();
        using var response = await client.SendAsync(IngressHost.TelnyxRequest(
            IngressHost.TelnyxBody("v3:x", "call.answered", Guid.NewGuid(), DateTimeOffset.UtcNow), DateTimeOffset.UtcNow, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_over_64_KiB_gets_413_with_or_without_content_length(bool chunked)
    {
        await using var host = Host();
        using var client = host.CreateClient();
        var body = new byte[64 * 1024 + 1];
        Array.Fill(body, (byte)'a');
        HttpContent content = chunked ? new StreamContent(new MemoryStream(body)) : new ByteArrayContent(body);
        content.Headers.ContentType = new("application/x-www-form-urlencoded");
        using var response = await client.PostAsync("/webhooks/twilio/status", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task A_signed_but_malformed_callback_gets_400_naming_the_problem()
    {
        await using var host = Host();
        using var client = host.CreateClient();
        using var response = await client.SendAsync(IngressHost.TwilioForm("/webhooks/twilio/status", [new("CallStatus", "ringing")]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("CallSid", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_unknown_twilio_callback_kind_that_is_not_a_safe_name_is_not_found()
    {
        await using var host = Host();
        using var client = host.CreateClient();
        using var response = await client.SendAsync(IngressHost.TwilioForm("/webhooks/twilio/..%2Fetc", IngressHost.StatusFields(NewCallSid(), "ringing", 1)));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_voice_webhook_still_answers_valid_twiml_apologising_and_hanging_up_when_the_bus_is_unavailable()
    {
        await using var host = new IngressHost(infrastructure.ConnectionString, $"amqp://u:p@127.0.0.1:{ClosedPort()}", new Dictionary<string, string?>
        {
            ["Webhooks:PublishTimeout"] = "00:00:00.5",
        });
        using var client = host.CreateClient();
        var fields = IngressHost.StatusFields(NewCallSid(), "ringing", 1);
        using var voice = await client.SendAsync(IngressHost.TwilioForm("/webhooks/twilio/voice", fields));

        Assert.Equal(HttpStatusCode.OK, voice.StatusCode);
        var twiml = XDocument.Parse(await voice.Content.ReadAsStringAsync());
        Assert.NotNull(twiml.Root!.Element("Say"));
        Assert.NotNull(twiml.Root.Element("Hangup"));

        // A status callback is not TwiML: the provider is told to retry.
        using var status = await client.SendAsync(IngressHost.TwilioForm("/webhooks/twilio/status", IngressHost.StatusFields(NewCallSid(), "ringing", 1)));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status.StatusCode);
        Assert.NotNull(status.Headers.RetryAfter);
        Assert.Contains(host.Logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("answered 503", StringComparison.Ordinal));
    }

    private static HttpRequestMessage Json(string pathAndQuery, byte[] body, string signature)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, pathAndQuery)
        {
            Content = new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } },
        };
        request.Headers.TryAddWithoutValidation(TwilioSignature.HeaderName, signature);
        return request;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
