using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using VoiceKraliki.ServiceDefaults.Health;
using VoiceKraliki.ServiceDefaults.Tests.Support;

namespace VoiceKraliki.ServiceDefaults.Tests.Health;

public class HealthEndpointsTests
{
    /// <summary>A readiness check the test turns to any status.</summary>
    private sealed class Switch
    {
        public volatile HealthStatus Status = HealthStatus.Healthy;
    }

    private static async Task<(ServiceHost Host, Switch Database)> StartAsync()
    {
        var database = new Switch();
        var host = await ServiceHost.StartAsync(
            new Dictionary<string, string?>(),
            builder => builder.Services.AddHealthChecks()
                .AddCheck("database", () => new HealthCheckResult(database.Status, $"database is {database.Status}")));
        return (host, database);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> GetAsync(ServiceHost host, string path)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var response = await host.Client.GetAsync(path, cts.Token);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cts.Token)).RootElement.Clone();
        return (response.StatusCode, body, response);
    }

    private static JsonElement Check(JsonElement body, string name) =>
        body.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static string[] CheckNames(JsonElement body) =>
        body.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).Order().ToArray();

    [Fact]
    public async Task Health_is_200_with_every_check_named_while_all_are_healthy()
    {
        var (host, _) = await StartAsync();
        await using var _ = host;

        var (status, body, response) = await GetAsync(host, "/health");
        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("no-store", response.Headers.CacheControl?.ToString());
        }

        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal(["database", "self"], CheckNames(body));
        Assert.Equal("Healthy", Check(body, "database").GetProperty("status").GetString());
    }

    [Theory]
    [InlineData(HealthStatus.Unhealthy, HttpStatusCode.ServiceUnavailable)]
    [InlineData(HealthStatus.Degraded, HttpStatusCode.OK)]
    public async Task Health_names_the_failing_check_and_its_status_503_when_unhealthy_200_when_degraded_and_recovers(HealthStatus failing, HttpStatusCode expected)
    {
        var (host, database) = await StartAsync();
        await using var _ = host;

        database.Status = failing;
        var (status, body, response) = await GetAsync(host, "/health");
        response.Dispose();

        Assert.Equal(expected, status);
        Assert.Equal(failing.ToString(), body.GetProperty("status").GetString());
        var check = Check(body, "database");
        Assert.Equal(failing.ToString(), check.GetProperty("status").GetString());
        Assert.Equal($"database is {failing}", check.GetProperty("description").GetString());
        Assert.Equal("Healthy", Check(body, "self").GetProperty("status").GetString());

        database.Status = HealthStatus.Healthy;
        var (recovered, _, again) = await GetAsync(host, "/health");
        again.Dispose();
        Assert.Equal(HttpStatusCode.OK, recovered);
    }

    [Fact]
    public async Task Alive_stays_200_and_ignores_readiness_checks_while_health_is_503()
    {
        var (host, database) = await StartAsync();
        await using var _ = host;
        database.Status = HealthStatus.Unhealthy;

        var (status, body, response) = await GetAsync(host, "/alive");
        response.Dispose();
        var (health, _, healthResponse) = await GetAsync(host, "/health");
        healthResponse.Dispose();

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["self"], CheckNames(body));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, health);
    }

    [Fact]
    public async Task A_check_tagged_live_is_part_of_alive()
    {
        var heartbeat = new Switch { Status = HealthStatus.Unhealthy };
        await using var host = await ServiceHost.StartAsync(
            new Dictionary<string, string?>(),
            builder => builder.Services.AddHealthChecks()
                .AddCheck("event-loop", () => new HealthCheckResult(heartbeat.Status), [HealthEndpoints.LiveTag]));

        var (status, body, response) = await GetAsync(host, "/alive");
        response.Dispose();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", Check(body, "event-loop").GetProperty("status").GetString());
        Assert.Equal([HealthEndpoints.LiveTag], Check(body, "event-loop").GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task A_check_that_throws_is_reported_unhealthy_with_its_error()
    {
        await using var host = await ServiceHost.StartAsync(
            new Dictionary<string, string?>(),
            builder => builder.Services.AddHealthChecks()
                .AddCheck("cache", () => throw new InvalidOperationException("redis is gone")));

        var (status, body, response) = await GetAsync(host, "/health");
        response.Dispose();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var check = Check(body, "cache");
        Assert.Equal("Unhealthy", check.GetProperty("status").GetString());
        Assert.Contains("redis is gone", check.GetProperty("description").GetString());
    }
}
