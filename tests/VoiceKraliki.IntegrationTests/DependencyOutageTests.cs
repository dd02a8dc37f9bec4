using System.Net;
using VoiceKraliki.IntegrationTests.Support;
using Xunit.Abstractions;

namespace VoiceKraliki.IntegrationTests;

/// <summary>
/// Stopping a real server turns the /health of every service that needs it to 503 within 10 s, and
/// starting it again brings them back. Each test leaves the system as it found it.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DependencyOutageTests(SystemFixture system, ITestOutputHelper output)
{
    private static readonly TimeSpan Unhealthy = TimeSpan.FromSeconds(10);

    // Reconnecting (a RabbitMQ restart takes several seconds, then the clients back off) is generous.
    private static readonly TimeSpan Recovered = TimeSpan.FromSeconds(90);

    /// <summary>
    /// webhook-ingress carries on without Redis (rate limits and replay protection per replica, in
    /// memory): it reports Degraded and stays in rotation, so that no genuine webhook is refused.
    /// call-state too: Postgres is its truth and Redis only its fast tier, so it reads from Postgres; and compliance,
    /// whose decisions are only cached there.
    /// </summary>
    [Theory]
    [InlineData("redis", new string[0], new[] { "call-state", "webhook-ingress", "compliance" }, new[] { "media-bridge" })]
    [InlineData("postgres", new[] { "call-state", "compliance", "alerting" }, new string[0], new[] { "webhook-ingress" })]
    [InlineData("messaging", new[] { "call-state", "webhook-ingress", "media-bridge", "compliance", "alerting" }, new string[0], new[] { "gateway" })]
    public async Task A_stopped_server_makes_its_dependents_unhealthy_and_they_recover_when_it_returns(
        string server, string[] dependents, string[] degraded, string[] unaffected)
    {
        // Timed from the moment the stop begins (a graceful stop itself takes a moment).
        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await system.App.StopResourceAsync(server);
        output.WriteLine($"{server} stopped in {stopping.Elapsed.TotalSeconds:F1} s");
        try
        {
            foreach (var service in dependents)
            {
                await system.WaitForHealthAsync(service, HttpStatusCode.ServiceUnavailable, Unhealthy - stopping.Elapsed);
                output.WriteLine($"{server} stopped: {service} unhealthy {stopping.Elapsed.TotalSeconds:F1} s after the stop began");
            }

            foreach (var service in degraded)
            {
                await system.WaitForHealthAsync(service, HttpStatusCode.OK, Unhealthy - stopping.Elapsed, expectedStatus: "Degraded");
                output.WriteLine($"{server} stopped: {service} degraded {stopping.Elapsed.TotalSeconds:F1} s after the stop began");
            }

            foreach (var service in unaffected)
            {
                await system.WaitForHealthAsync(service, HttpStatusCode.OK, TimeSpan.FromSeconds(2));
            }
        }
        finally
        {
            var starting = System.Diagnostics.Stopwatch.StartNew();
            await system.App.StartResourceAsync(server);
            await system.App.WaitForResourceHealthyAsync(server, TimeSpan.FromMinutes(1));
            output.WriteLine($"{server} healthy again in {starting.Elapsed.TotalSeconds:F1} s");
        }

        foreach (var service in dependents.Concat(degraded))
        {
            var took = await system.WaitForHealthAsync(service, HttpStatusCode.OK, Recovered, expectedStatus: "Healthy");
            output.WriteLine($"{server} started: {service} healthy {took.TotalSeconds:F1} s after the server was");
        }
    }
}
