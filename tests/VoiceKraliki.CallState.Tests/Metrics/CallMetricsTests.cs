using System.Globalization;
using System.Text.RegularExpressions;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;
using Xunit.Abstractions;
using static VoiceKraliki.CallState.Tests.Apis.TestCalls;

namespace VoiceKraliki.CallState.Tests.Metrics;

/// <summary>call-state's metrics as Prometheus scrapes them from the real service.</summary>
[Collection(CallStateInfrastructureCollection.Name)]
public sealed partial class CallMetricsTests(CallStateInfrastructure infrastructure, ITestOutputHelper output)
{
    [Fact]
    public async Task Call_metrics_appear_on_metrics_with_their_exact_names_types_and_labels()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure, ("Reconciliation:Interval", "00:00:00.200"));
        await WaitUntilServingAsync(host);
        using var client = host.CreateClient();
        var tag = Tag();
        var t = Now();
        var answered = $"v3:{tag}-answered";
        var stuck = $"v3:{tag}-stuck";
        await host.ProcessAllAsync(
        [
            .. Through(answered, t, CallStatus.Initiated, CallStatus.Ringing, CallStatus.Answered, CallStatus.Completed),
            Event(stuck, CallStatus.Ringing, t.AddMinutes(-10)),
        ]);
        await Eventually(async () => (await GetJsonAsync(client, Path(stuck))).GetProperty("stuckSince").ValueKind != System.Text.Json.JsonValueKind.Null);

        using var anonymous = host.CreateClient(apiKey: null);
        string text = "";
        await Eventually(async () =>
        {
            text = await anonymous.GetStringAsync("/metrics");
            return text.Contains("telephony_calls_active{", StringComparison.Ordinal);
        });

        var types = TypeLine().Matches(text).ToDictionary(m => m.Groups["name"].Value, m => m.Groups["type"].Value);
        Assert.Equal("counter", types.GetValueOrDefault("telephony_calls_total"));
        Assert.Equal("histogram", types.GetValueOrDefault("telephony_call_duration_seconds"));
        Assert.Equal("gauge", types.GetValueOrDefault("telephony_calls_active"));
        Assert.Equal("histogram", types.GetValueOrDefault("telephony_call_setup_seconds"));
        Assert.Equal("histogram", types.GetValueOrDefault("telephony_call_event_apply_latency_seconds"));
        Assert.Equal("counter", types.GetValueOrDefault("telephony_calls_stuck_total"));
        output.WriteLine(string.Join('\n', text.Split('\n').Where(l => l.StartsWith("telephony_call", StringComparison.Ordinal) && !l.Contains("_bucket", StringComparison.Ordinal))));

        Assert.True(Sample(text, "telephony_calls_total", "provider=\"telnyx\"", "status=\"completed\"", "direction=\"outbound\"") >= 1);
        Assert.True(Sample(text, "telephony_calls_total", "provider=\"telnyx\"", "status=\"ringing\"", "direction=\"outbound\"") >= 2);
        Assert.True(Sample(text, "telephony_call_duration_seconds_count", "provider=\"telnyx\"") >= 1);
        Assert.True(Sample(text, "telephony_call_setup_seconds_count", "provider=\"telnyx\"") >= 1);
        Assert.True(Sample(text, "telephony_call_event_apply_latency_seconds_count", "provider=\"telnyx\"") >= 5);
        Assert.True(Sample(text, "telephony_calls_stuck_total", "provider=\"telnyx\"") >= 1);
        Assert.True(Sample(text, "telephony_calls_active", "provider=\"telnyx\"") >= 1);
        Assert.NotNull(Sample(text, "telephony_calls_active", "provider=\"twilio\""));
    }

    /// <summary>The value of the first sample of <paramref name="name"/> carrying all <paramref name="labels"/>, or null.</summary>
    private static double? Sample(string text, string name, params string[] labels)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + "{", StringComparison.Ordinal) && labels.All(l => line.Contains(l, StringComparison.Ordinal)))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    [GeneratedRegex(@"^# TYPE (?<name>\S+) (?<type>\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
