using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Media;

namespace VoiceKraliki.IntegrationTests.Support;

/// <summary>Calls on the whole system as Twilio makes them: signed status webhooks through the gateway, and recorded media streams.</summary>
internal sealed class SystemCalls(SystemFixture system)
{
    private readonly ProviderWebhooks _webhooks = new(system.Gateway);

    /// <summary>
    /// A completed inbound call through four signed webhooks (initiated → ringing → in-progress → completed), each
    /// seen applied by the call API. <paramref name="at"/> is the provider's <c>Timestamp</c> of the events (now when
    /// null): a call the provider says happened long ago.
    /// </summary>
    public async Task<string> CompletedAsync(HttpClient api, string from, string to, DateTimeOffset? at = null)
    {
        using var provider = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var callSid = ProviderWebhooks.NewCallSid();
        var sequence = 0;
        foreach (var (status, state) in new[] { ("initiated", "Initiated"), ("ringing", "Ringing"), ("in-progress", "Answered"), ("completed", "Completed") })
        {
            var timestamp = (at ?? DateTimeOffset.UtcNow).AddSeconds(sequence * 5);
            using var response = await provider.SendAsync(_webhooks.TwilioRequest("/webhooks/twilio/status", [
                new("AccountSid", "AC00000000000000000000000000000001"), new("ApiVersion", "2010-04-01"), new("CallSid", callSid),
                new("CallStatus", status), new("Direction", "inbound"), new("From", from), new("To", to),
                new("SequenceNumber", (++sequence).ToString(CultureInfo.InvariantCulture)),
                new("Timestamp", timestamp.ToString("r", CultureInfo.InvariantCulture)), new("CallbackSource", "call-progress-events")]));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            await Eventually(async () =>
            {
                using var found = await api.GetAsync("/api/calls/" + callSid);
                return found.IsSuccessStatusCode
                       && JsonDocument.Parse(await found.Content.ReadAsStringAsync()).RootElement.GetProperty("status").GetString() == state;
            }, $"call {callSid} to reach {state}");
        }

        return callSid;
    }

    /// <summary>Two seconds of the call's media stream, waited for until media-bridge has written its recording.</summary>
    public async Task RecordAsync(string callSid, string from, string to)
    {
        var parameters = new Dictionary<string, string>
        {
            ["callSid"] = callSid,
            ["from"] = from,
            ["to"] = to,
            ["token"] = new StreamTokenService(SystemFixture.StreamTokenKey, TimeProvider.System)
                .Issue(TelephonyProvider.Twilio, callSid, null, TimeSpan.FromMinutes(5)),
        };
        await using (var client = await TwilioMediaClient.ConnectAsync(system.Gateway, callSid))
        {
            await client.StartAsync(parameters);
            await client.StreamAsync(Enumerable.Repeat((byte)0xFF, 2 * 8000).ToArray());
            await client.StopAsync();
        }

        await Eventually(() => Task.FromResult(RecordingFiles(callSid).Any(f => f.EndsWith(".wav", StringComparison.Ordinal))), $"a recording of {callSid}");
    }

    /// <summary>Every file media-bridge keeps for the call (audio and sidecar).</summary>
    public string[] RecordingFiles(string callSid) =>
        [.. Directory.EnumerateFiles(system.RecordingDirectory, $"*{callSid}*", SearchOption.AllDirectories)];

    public static async Task Eventually(Func<Task<bool>> condition, string what, int seconds = 45)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}");
            }

            await Task.Delay(200);
        }
    }
}
