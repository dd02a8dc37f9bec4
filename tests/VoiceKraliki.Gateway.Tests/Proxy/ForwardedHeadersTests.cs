using System.Net;
using System.Net.Http.Json;
using VoiceKraliki.Gateway.Tests.Support;

namespace VoiceKraliki.Gateway.Tests.Proxy;

/// <summary>Only the gateway says who the client is: forwarding headers from outside are never trusted.</summary>
public class ForwardedHeadersTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private async Task<EchoedRequest> SendAsync(HttpRequestMessage request)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await fixture.Client.SendAsync(request, cts.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EchoedRequest>(cts.Token))!;
    }

    private static HttpRequestMessage Spoofed(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "6.6.6.6");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", "evil.example");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Prefix", "/evil");
        request.Headers.TryAddWithoutValidation("X-Forwarded-Port", "443");
        request.Headers.TryAddWithoutValidation("X-Real-IP", "6.6.6.6");
        request.Headers.TryAddWithoutValidation("Forwarded", "for=6.6.6.6;host=evil.example;proto=https");
        request.Headers.TryAddWithoutValidation("X-Call-Label", "kept");
        return request;
    }

    [Fact]
    public async Task Spoofed_forwarded_headers_are_replaced_by_the_gateway()
    {
        using var request = Spoofed(HttpMethod.Get, "/api/calls/CA123?page=2");
        var seen = await SendAsync(request);

        Assert.Equal("/api/calls/CA123?page=2", seen.Path);
        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
        Assert.Equal($"127.0.0.1:{fixture.Gateway.Address.Port}", seen.Header("X-Forwarded-Host"));
        Assert.Equal("http", seen.Header("X-Forwarded-Proto"));
        Assert.Null(seen.Header("X-Forwarded-Prefix"));
        Assert.DoesNotContain("6.6.6.6", string.Join("\n", seen.Headers.Values));
        Assert.DoesNotContain("evil", string.Join("\n", seen.Headers.Values));
    }

    [Fact]
    public async Task Sent_straight_to_the_backend_the_spoofed_headers_would_be_seen()
    {
        // Guards the tests above: the echo does report these headers when nothing removes them.
        using var direct = new HttpClient { BaseAddress = fixture.Backend.Address, Timeout = TimeSpan.FromSeconds(20) };
        using var request = Spoofed(HttpMethod.Get, "/api/calls");
        using var response = await direct.SendAsync(request);
        var seen = (await response.Content.ReadFromJsonAsync<EchoedRequest>())!;

        Assert.Equal("6.6.6.6", seen.Header("X-Forwarded-For"));
        Assert.Equal("for=6.6.6.6;host=evil.example;proto=https", seen.Header("Forwarded"));
        Assert.Equal("6.6.6.6", seen.Header("X-Real-IP"));
        Assert.Equal("443", seen.Header("X-Forwarded-Port"));
    }

    [Theory]
    [InlineData("Forwarded")]
    [InlineData("X-Real-IP")]
    [InlineData("X-Forwarded-Port")]
    public async Task Headers_only_the_gateway_may_set_are_dropped(string header)
    {
        using var request = Spoofed(HttpMethod.Post, "/webhooks/twilio/voice");
        request.Content = new FormUrlEncodedContent([new("CallSid", "CA123")]);
        var seen = await SendAsync(request);

        Assert.Null(seen.Header(header));
    }

    [Fact]
    public async Task Ordinary_request_headers_and_the_body_reach_the_backend()
    {
        using var request = Spoofed(HttpMethod.Post, "/webhooks/twilio/status");
        request.Headers.TryAddWithoutValidation("X-Twilio-Signature", "c2lnbmF0dXJl");
        request.Content = new FormUrlEncodedContent([new("CallSid", "CA123"), new("CallStatus", "completed")]);
        var seen = await SendAsync(request);

        Assert.Equal("POST", seen.Method);
        Assert.Equal("kept", seen.Header("X-Call-Label"));
        Assert.Equal("c2lnbmF0dXJl", seen.Header("X-Twilio-Signature"));
        Assert.Equal("CallSid=CA123&CallStatus=completed".Length, seen.BodyLength);
    }

    [Fact]
    public async Task Without_spoofing_the_backend_still_learns_the_client_address()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/calls");
        var seen = await SendAsync(request);

        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
        Assert.Equal("http", seen.Header("X-Forwarded-Proto"));
        Assert.Equal($"127.0.0.1:{fixture.Gateway.Address.Port}", seen.Header("X-Forwarded-Host"));
    }

    [Fact]
    public async Task A_path_with_no_route_is_404_and_never_reaches_a_backend()
    {
        var before = fixture.Backend.Requests;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await fixture.Client.GetAsync("/internal/admin", cts.Token);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(before, fixture.Backend.Requests);
    }
}
