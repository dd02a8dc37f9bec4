using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VoiceKraliki.Gateway.Tests.Support;

namespace VoiceKraliki.Gateway.Tests.Proxy;

/// <summary>Webhook bodies are capped at 64 KiB and others at 1 MiB, whether or not the client says the length up front.</summary>
public class RequestBodyLimitTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private const int KiB = 1024;

    public enum Framing
    {
        ContentLength,
        Chunked,
    }

    /// <summary>A body of unknown length, so HttpClient sends it with <c>Transfer-Encoding: chunked</c>.</summary>
    private sealed class ChunkedContent(int length) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            var piece = new byte[8 * KiB];
            Array.Fill(piece, (byte)'a');
            for (var sent = 0; sent < length; sent += piece.Length)
            {
                await stream.WriteAsync(piece.AsMemory(0, Math.Min(piece.Length, length - sent)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static HttpRequestMessage Post(string path, int length, Framing framing)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (framing == Framing.Chunked)
        {
            request.Content = new ChunkedContent(length);
            request.Headers.TransferEncodingChunked = true;
        }
        else
        {
            request.Content = new ByteArrayContent(new byte[length]);
        }

        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        // A fresh connection per request: the gateway may close one after refusing a body.
        using var client = fixture.Gateway.CreateSocketClient();
        var response = await client.SendAsync(request, cts.Token);
        await response.Content.LoadIntoBufferAsync(cts.Token);
        return response;
    }

    private static async Task<JsonElement> AssertTooLargeAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(413, json.RootElement.GetProperty("status").GetInt32());
        return json.RootElement.Clone();
    }

    /// <summary>The gateway's own problem: it names the path and the limit.</summary>
    private static async Task AssertTooLargeAsync(HttpResponseMessage response, string path, long limit)
    {
        var problem = await AssertTooLargeAsync(response);
        Assert.True(problem.TryGetProperty("detail", out var detail), $"no detail in {problem}");
        Assert.Equal($"The body of a request to {path} may be at most {limit} bytes.", detail.GetString());
    }

    private static async Task AssertForwardedAsync(HttpResponseMessage response, int length)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = await response.Content.ReadFromJsonAsync<EchoedRequest>();
        Assert.Equal(length, seen?.BodyLength);
    }

    [Fact]
    public async Task A_70_KiB_webhook_with_content_length_is_refused_with_413_before_reaching_the_backend()
    {
        var before = fixture.Backend.Requests;
        using var request = Post("/webhooks/twilio/voice", 70 * KiB, Framing.ContentLength);
        using var response = await SendAsync(request);

        await AssertTooLargeAsync(response, "/webhooks/twilio/voice", 64 * KiB);
        Assert.Equal(before, fixture.Backend.Requests);
    }

    [Fact]
    public async Task A_chunked_70_KiB_webhook_is_refused_with_413_problem_details()
    {
        using var request = Post("/webhooks/telnyx", 70 * KiB, Framing.Chunked);
        using var response = await SendAsync(request);

        await AssertTooLargeAsync(response);
    }

    [Fact]
    public async Task A_chunked_webhook_over_the_limit_gets_the_same_problem_details_as_one_with_content_length()
    {
        using var request = Post("/webhooks/telnyx", 70 * KiB, Framing.Chunked);
        using var response = await SendAsync(request);

        await AssertTooLargeAsync(response, "/webhooks/telnyx", 64 * KiB);
    }

    [Fact]
    public async Task A_chunked_webhook_of_exactly_64_KiB_is_forwarded_like_one_with_content_length()
    {
        using var request = Post("/webhooks/twilio/status", 64 * KiB, Framing.Chunked);
        using var response = await SendAsync(request);

        await AssertForwardedAsync(response, 64 * KiB);
    }

    [Theory]
    [InlineData(Framing.ContentLength, 60 * KiB)]
    [InlineData(Framing.Chunked, 60 * KiB)]
    [InlineData(Framing.ContentLength, 64 * KiB)]
    [InlineData(Framing.Chunked, 63 * KiB)]
    public async Task A_webhook_body_up_to_64_KiB_is_forwarded_whole(Framing framing, int length)
    {
        using var request = Post("/webhooks/twilio/status", length, framing);
        using var response = await SendAsync(request);

        await AssertForwardedAsync(response, length);
    }

    [Theory]
    [InlineData(Framing.ContentLength)]
    [InlineData(Framing.Chunked)]
    public async Task One_byte_over_64_KiB_on_a_webhook_is_refused(Framing framing)
    {
        using var request = Post("/webhooks/twilio/status", 64 * KiB + 1, framing);
        using var response = await SendAsync(request);

        await AssertTooLargeAsync(response);
    }

    [Theory]
    [InlineData(Framing.ContentLength)]
    [InlineData(Framing.Chunked)]
    public async Task A_70_KiB_body_on_a_non_webhook_route_is_forwarded(Framing framing)
    {
        using var request = Post("/api/calls/outbound", 70 * KiB, framing);
        using var response = await SendAsync(request);

        await AssertForwardedAsync(response, 70 * KiB);
    }

    [Theory]
    [InlineData(Framing.ContentLength)]
    [InlineData(Framing.Chunked)]
    public async Task A_body_over_1_MiB_on_a_non_webhook_route_is_refused(Framing framing)
    {
        using var request = Post("/api/calls/outbound", KiB * KiB + 1, framing);
        using var response = await SendAsync(request);

        await AssertTooLargeAsync(response);
        if (framing == Framing.ContentLength)
        {
            await AssertTooLargeAsync(response, "/api/calls/outbound", KiB * KiB);
        }
    }

    [Fact]
    public async Task The_webhook_limit_applies_whatever_the_case_of_the_path()
    {
        using var request = Post("/WEBHOOKS/twilio/voice", 70 * KiB, Framing.ContentLength);
        using var response = await SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }
}

/// <summary>The limits come from <c>Gateway:*BodyLimitBytes</c>.</summary>
public class ConfiguredBodyLimitTests
{
    [Theory]
    [InlineData(8 * 1024, 8 * 1024 + 1)]
    [InlineData(128 * 1024, 128 * 1024 + 1)]
    public async Task The_webhook_limit_follows_configuration(int limit, int refused)
    {
        await using var backend = await EchoBackend.StartAsync();
        await using var gateway = new GatewayFactory(backend.Address, new Dictionary<string, string?>
        {
            ["Gateway:WebhookBodyLimitBytes"] = limit.ToString(),
        });
        using var client = gateway.CreateSocketClient();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        using var accepted = await client.PostAsync("/webhooks/telnyx", new ByteArrayContent(new byte[limit]), cts.Token);
        using var tooLarge = await client.PostAsync("/webhooks/telnyx", new ByteArrayContent(new byte[refused]), cts.Token);

        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
    }

    [Theory]
    [InlineData("Gateway:WebhookBodyLimitBytes", "10")]
    [InlineData("Gateway:WebhookBodyLimitBytes", "20000000")]
    [InlineData("Gateway:DefaultBodyLimitBytes", "0")]
    public async Task An_out_of_range_limit_stops_the_gateway_naming_the_key(string key, string value)
    {
        await using var backend = await EchoBackend.StartAsync();
        await using var gateway = new GatewayFactory(backend.Address, new Dictionary<string, string?> { [key] = value });

        var exception = Assert.ThrowsAny<Exception>(() => gateway.Address);
        var messages = new List<string>();
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
        }

        Assert.Contains(key, string.Join(" | ", messages));
    }
}
