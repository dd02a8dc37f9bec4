using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VoiceKraliki.AppHost;
using VoiceKraliki.Contracts;
using VoiceKraliki.IntegrationTests.Support;
using VoiceKraliki.Telephony.Media;
using Xunit.Abstractions;

namespace VoiceKraliki.IntegrationTests;

/// <summary>
/// media-bridge (Recording:Policy=Compliance) asks the real compliance service, with the service key the AppHost
/// generated, before it records a stream: two numbers in US one-party states are recorded, a Berlin number only once
/// its consent is on file, and a stream that does not name its parties is not recorded at all.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class RecordingConsentTests(SystemFixture system, ITestOutputHelper output)
{
    private const string NewYork = "+12125550100";
    private const string Dallas = "+12145550100";
    private const string Berlin = "+4930901820";

    /// <summary>Two seconds of μ-law silence: what is said does not matter here, only whether it is kept.</summary>
    private static readonly byte[] Audio = Enumerable.Repeat((byte)0xFF, 2 * 8000).ToArray();

    [Fact]
    public async Task A_stream_between_two_us_one_party_numbers_is_recorded_on_compliances_word()
    {
        var callSid = await StreamAsync(NewYork, Dallas);

        var sidecar = await WaitForRecordingAsync(callSid);

        Assert.Equal("compliance", sidecar.GetProperty("policyBasis").GetString());
        Assert.Equal(NewYork, sidecar.GetProperty("from").GetString());
        Assert.Equal(Dallas, sidecar.GetProperty("to").GetString());
        Assert.Equal(2 * 8000, sidecar.GetProperty("frames").GetInt64());
        var decision = await WaitForDecisionAsync(callSid);
        Assert.Contains("allowed=True, basis compliance (", decision, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_berlin_number_is_recorded_only_after_its_consent_is_on_file()
    {
        var before = await StreamAsync(Berlin, NewYork);

        var refused = await WaitForDecisionAsync(before);
        output.WriteLine(refused);
        Assert.Contains("allowed=False, basis compliance-denied (", refused, StringComparison.Ordinal);
        Assert.Contains("consent", refused, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Berlin, refused, StringComparison.Ordinal);
        Assert.Empty(RecordingFiles(before));

        using (var officer = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey))
        {
            using var given = await officer.PostAsJsonAsync("/api/compliance/consents", new
            {
                phoneNumber = Berlin,
                type = "recording",
                action = "given",
                method = "ivr_keypress",
                evidence = new { callId = before, digits = "1" },
                purpose = "Call recording for quality assurance",
            });
            Assert.Equal(HttpStatusCode.Created, given.StatusCode);
        }

        var after = await StreamAsync(Berlin, NewYork);

        var sidecar = await WaitForRecordingAsync(after);
        Assert.Equal("compliance", sidecar.GetProperty("policyBasis").GetString());
        Assert.Equal(Berlin, sidecar.GetProperty("from").GetString());
        Assert.Contains("allowed=True, basis compliance (", await WaitForDecisionAsync(after), StringComparison.Ordinal);
        // The refused stream stays unrecorded: a consent given later does not reach back.
        Assert.Empty(RecordingFiles(before));
    }

    [Fact]
    public async Task A_stream_that_does_not_name_both_parties_is_not_recorded()
    {
        var noNumbers = await StreamAsync(from: null, to: null);
        var notANumber = await StreamAsync("client:alice", Dallas);

        Assert.Contains("allowed=False, basis no-parties (", await WaitForDecisionAsync(noNumbers), StringComparison.Ordinal);
        Assert.Contains("allowed=False, basis no-parties (", await WaitForDecisionAsync(notANumber), StringComparison.Ordinal);
        Assert.Empty(RecordingFiles(noNumbers));
        Assert.Empty(RecordingFiles(notANumber));
    }

    /// <summary>A Twilio stream through the gateway between two parties, two seconds long, stopped; its call sid.</summary>
    private async Task<string> StreamAsync(string? from, string? to)
    {
        var callSid = ProviderWebhooks.NewCallSid();
        var parameters = new Dictionary<string, string>
        {
            ["callSid"] = callSid,
            ["direction"] = "Inbound",
            ["token"] = new StreamTokenService(SystemFixture.StreamTokenKey, TimeProvider.System)
                .Issue(TelephonyProvider.Twilio, callSid, null, TimeSpan.FromMinutes(5)),
        };
        if (from is not null)
        {
            parameters["from"] = from;
        }

        if (to is not null)
        {
            parameters["to"] = to;
        }

        await using var client = await TwilioMediaClient.ConnectAsync(system.Gateway, callSid);
        await client.StartAsync(parameters);
        await client.StreamAsync(Audio);
        await client.StopAsync();
        return callSid;
    }

    /// <summary>media-bridge's log line with its recording decision for the call.</summary>
    private async Task<string> WaitForDecisionAsync(string callSid)
    {
        var watch = Stopwatch.StartNew();
        var prefix = $"Recording decision for Twilio call {callSid} ";
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            var line = system.ServiceLog(AppModel.MediaBridgeName).Split('\n').FirstOrDefault(l => l.Contains(prefix, StringComparison.Ordinal));
            if (line is not null)
            {
                return line.TrimEnd('\r');
            }

            await Task.Delay(200);
        }

        throw new Xunit.Sdk.XunitException($"media-bridge logged no recording decision for {callSid} within 20 s");
    }

    /// <summary>The finished recording's sidecar, once it says the recording ended and its WAV is beside it.</summary>
    private async Task<JsonElement> WaitForRecordingAsync(string callSid)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            foreach (var path in Directory.EnumerateFiles(system.RecordingDirectory, $"*{callSid}*.json"))
            {
                using var document = JsonDocument.Parse(await File.ReadAllTextAsync(path));
                var root = document.RootElement;
                if (root.TryGetProperty("endedAt", out var ended) && ended.ValueKind != JsonValueKind.Null)
                {
                    Assert.True(File.Exists(Path.Combine(system.RecordingDirectory, root.GetProperty("audioFile").GetString()!)));
                    return root.Clone();
                }
            }

            await Task.Delay(200);
        }

        throw new Xunit.Sdk.XunitException($"no finished recording of {callSid} in {system.RecordingDirectory} within 20 s; decision: {await WaitForDecisionAsync(callSid)}");
    }

    private string[] RecordingFiles(string callSid) =>
        [.. Directory.EnumerateFiles(system.RecordingDirectory, $"*{callSid}*", SearchOption.AllDirectories)];
}
