using System.Net;
using System.Text.Json;
using VoiceKraliki.IntegrationTests.Support;
using VoiceKraliki.ServiceDefaults.Tests.Metrics;

namespace VoiceKraliki.IntegrationTests;

/// <summary>Every replica of every service answers the default endpoints, as the AppHost started it.</summary>
[Collection(SystemCollection.Name)]
public sealed class ServiceEndpointTests(SystemFixture system)
{
    public static TheoryData<string> Services => new(SystemFixture.Services);

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Alive_and_health_answer_200_with_every_check_named(string service)
    {
        var snapshot = system.App.GetResource(service);
        for (var replica = 0; replica < snapshot.Replicas.Count; replica++)
        {
            using var client = system.CreateClient(system.App.GetEndpoint(service, replica));
            using var alive = await client.GetAsync("/alive");
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);

            using var health = await client.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            using var body = JsonDocument.Parse(await health.Content.ReadAsStringAsync());
            Assert.Equal("Healthy", body.RootElement.GetProperty("status").GetString());
        }
    }

    [Theory]
    [InlineData("call-state", new[] { "postgres", "redis", "messaging" })]
    [InlineData("webhook-ingress", new[] { "redis", "messaging" })]
    [InlineData("media-bridge", new[] { "messaging" })]
    [InlineData("compliance", new[] { "postgres", "messaging" })]
    [InlineData("alerting", new[] { "postgres", "messaging" })]
    public async Task Health_checks_each_dependency_of_the_service(string service, string[] dependencies)
    {
        using var client = system.CreateClient(system.App.GetEndpoint(service));
        using var health = await client.GetAsync("/health");
        var json = await health.Content.ReadAsStringAsync();
        using var body = JsonDocument.Parse(json);
        var checks = body.RootElement.GetProperty("checks").EnumerateArray()
            .Select(c => c.GetProperty("name").GetString()!)
            .ToArray();

        foreach (var dependency in dependencies)
        {
            Assert.Contains(checks, name => name.StartsWith(dependency, StringComparison.Ordinal));
        }
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task Metrics_parse_as_prometheus_text_and_include_the_framework_meters(string service)
    {
        using var client = system.CreateClient(system.App.GetEndpoint(service));
        // One request first so that the HTTP server meters have something to report.
        (await client.GetAsync("/alive")).Dispose();

        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("0.0.4", response.Content.Headers.ContentType?.Parameters.Single(p => p.Name == "version").Value);

        var document = PrometheusTextParser.Parse(await response.Content.ReadAsStringAsync());

        var requests = document.Family("http_server_request_duration_seconds");
        Assert.Equal("histogram", requests.Type);
        Assert.Contains(document.Families, f => f.Name.StartsWith("dotnet_", StringComparison.Ordinal));
    }
}
