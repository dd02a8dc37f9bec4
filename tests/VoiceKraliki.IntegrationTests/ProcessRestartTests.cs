using System.Diagnostics;
using System.Net;
using VoiceKraliki.AppHost;
using VoiceKraliki.AppHost.Orchestration;
using VoiceKraliki.IntegrationTests.Support;
using Xunit.Abstractions;

namespace VoiceKraliki.IntegrationTests;

/// <summary>A service that dies is restarted by the AppHost and serves again.</summary>
[Collection(SystemCollection.Name)]
public sealed class ProcessRestartTests(SystemFixture system, ITestOutputHelper output)
{
    [Theory]
    [InlineData(AppModel.ComplianceName)]
    [InlineData(AppModel.GatewayName)]
    public async Task A_service_killed_with_sigkill_is_restarted_and_healthy_within_15_seconds(string service)
    {
        var before = system.App.GetResource(service);
        var pid = Assert.Single(before.ProcessIds);

        Process.GetProcessById(pid).Kill();
        var started = Stopwatch.StartNew();

        await WaitUntilAsync(() =>
        {
            var now = system.App.GetResource(service);
            return now.State == ResourceState.Healthy && now.ProcessIds.Count == 1 && now.ProcessIds[0] != pid;
        }, TimeSpan.FromSeconds(15), () => system.Describe());
        await system.WaitForHealthAsync(service, HttpStatusCode.OK, TimeSpan.FromSeconds(15) - started.Elapsed);
        output.WriteLine($"{service} healthy again {started.Elapsed.TotalSeconds:F1} s after SIGKILL");

        var after = system.App.GetResource(service);
        Assert.Equal(before.Restarts + 1, after.Restarts);
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within, Func<string> describe)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > within)
            {
                Assert.Fail($"Not within {within.TotalSeconds} s: {describe()}");
            }

            await Task.Delay(100);
        }
    }
}
