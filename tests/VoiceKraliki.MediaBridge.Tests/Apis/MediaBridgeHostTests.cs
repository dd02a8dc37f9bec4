using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using VoiceKraliki.MediaBridge.Tests.Support;

namespace VoiceKraliki.MediaBridge.Tests.Apis;

public class MediaBridgeHostTests(MediaBridgeFixture fixture) : IClassFixture<MediaBridgeFixture>
{
    [Fact]
    public async Task Without_a_broker_alive_is_200_and_health_is_503_naming_the_broker_check()
    {
        using var client = fixture.Factory.CreateSocketClient();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        using var alive = await client.GetAsync("/alive", cts.Token);
        using var health = await client.GetAsync("/health", cts.Token);

        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        using var json = JsonDocument.Parse(await health.Content.ReadAsStringAsync(cts.Token));
        Assert.Contains(json.RootElement.GetProperty("checks").EnumerateArray(), c =>
            c.GetProperty("name").GetString() == "messaging-broker" && c.GetProperty("status").GetString() == "Unhealthy");
    }

    [Fact]
    public async Task Metrics_answers_200_in_prometheus_text_format()
    {
        using var client = fixture.Factory.CreateSocketClient();
        using var response = await client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
    }
}

/// <summary>A bad setting stops the service at start with a message naming the key.</summary>
public class MediaBridgeStartupTests
{
    private static string StartFailure(Dictionary<string, string?> overrides)
    {
        using var factory = new MediaBridgeFactory(overrides);
        var exception = Assert.ThrowsAny<Exception>(() => factory.Address);
        var messages = new List<string>();
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is OptionsValidationException validation)
            {
                messages.AddRange(validation.Failures);
            }
        }

        return string.Join(" | ", messages);
    }

    [Theory]
    [InlineData("100")]
    [InlineData("2000000")]
    public void An_out_of_range_MaxMessageBytes_stops_the_service_naming_the_key(string value)
    {
        Assert.Contains("MediaStreams:MaxMessageBytes", StartFailure(new() { ["MediaStreams:MaxMessageBytes"] = value }));
    }

    [Theory]
    [InlineData("")]
    [InlineData("http://127.0.0.1:5672")]
    public void A_missing_or_non_amqp_broker_address_stops_the_service_naming_the_key(string value)
    {
        Assert.Contains("ConnectionStrings:messaging", StartFailure(new() { ["ConnectionStrings:messaging"] = value }));
    }
}
