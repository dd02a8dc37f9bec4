using System.Net;
using System.Text.Json;
using VoiceKraliki.Gateway.Tests.Support;

namespace VoiceKraliki.Gateway.Tests;

/// <summary>The gateway answers the endpoints every service has, itself (they are not proxied).</summary>
public class DefaultEndpointsTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Theory]
    [InlineData("/health")]
    [InlineData("/alive")]
    public async Task Health_endpoints_answer_200_with_the_self_check(string path)
    {
        var before = fixture.Backend.Requests;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await fixture.Client.GetAsync(path, cts.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cts.Token));
        Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
        Assert.Contains(json.RootElement.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "self");
        Assert.Equal(before, fixture.Backend.Requests);
    }

    [Fact]
    public async Task Metrics_answers_200_in_prometheus_text_format()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await fixture.Client.GetAsync("/metrics", cts.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
    }
}
