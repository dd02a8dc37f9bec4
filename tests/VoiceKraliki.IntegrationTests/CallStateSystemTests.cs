using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using VoiceKraliki.AppHost;
using VoiceKraliki.Contracts;
using VoiceKraliki.IntegrationTests.Support;
using Xunit.Abstractions;

namespace VoiceKraliki.IntegrationTests;

/// <summary>
/// Calls through the whole system: signed provider webhooks in at the gateway, call-state's view out
/// through the gateway's API, CallStateChanged on the real bus, and call-state killed or cut off from
/// Redis along the way.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class CallStateSystemTests(SystemFixture system, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly ProviderWebhooks _webhooks = new(system.Gateway);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<CallStateChanged>> _changes = new();
    private IHost _listener = null!;

    public async Task InitializeAsync() =>
        _listener = await BusListener.StartAsync<RecordingStateChanges>(system, "it-call-state-changes", services => services.AddSingleton(_changes));

    public async Task DisposeAsync()
    {
        await _listener.StopAsync();
        _listener.Dispose();
    }

    [Fact]
    public async Task A_twilio_and_a_telnyx_call_through_four_signed_webhooks_end_completed_with_four_transitions_and_four_state_changes()
    {
        using var provider = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var twilioCall = ProviderWebhooks.NewCallSid();
        using var api = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        // A provider sends a call's events seconds apart; each one goes once the previous is visible, since two
        // call-state replicas may otherwise apply near-simultaneous events out of order (then a late one is
        // correctly ignored, which the shuffled-stream tests cover, but the call would show fewer transitions).
        var sequence = 0;
        foreach (var (status, state) in new[] { ("initiated", "Initiated"), ("ringing", "Ringing"), ("in-progress", "Answered"), ("completed", "Completed") })
        {
            using var response = await provider.SendAsync(_webhooks.TwilioStatus(twilioCall, status, ++sequence));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            await WaitForCallAsync(api, twilioCall, c => c.GetProperty("status").GetString() == state, TimeSpan.FromSeconds(30));
        }

        var telnyxCall = "v3:" + Guid.NewGuid().ToString("N");
        var at = DateTimeOffset.UtcNow;
        // Telnyx Call Control sends no ringing event (call.initiated covers it): its fourth state is a hold.
        foreach (var (eventType, offset, state) in new[]
                 {
                     ("call.initiated", 0, "Initiated"), ("call.answered", 2, "Answered"), ("call.hold", 10, "OnHold"), ("call.hangup", 30, "Completed"),
                 })
        {
            using var response = await provider.SendAsync(ProviderWebhooks.TelnyxEvent(telnyxCall, eventType, at.AddSeconds(offset)));
            Assert.True(response.IsSuccessStatusCode, $"{eventType}: {(int)response.StatusCode}");
            await WaitForCallAsync(api, telnyxCall, c => c.GetProperty("status").GetString() == state, TimeSpan.FromSeconds(30));
        }

        var expected = new Dictionary<string, CallStatus[]>
        {
            [twilioCall] = [CallStatus.Initiated, CallStatus.Ringing, CallStatus.Answered, CallStatus.Completed],
            [telnyxCall] = [CallStatus.Initiated, CallStatus.Answered, CallStatus.OnHold, CallStatus.Completed],
        };
        foreach (var (callId, states) in expected)
        {
            var call = await WaitForCallAsync(api, callId, c => c.GetProperty("status").GetString() == "Completed", TimeSpan.FromSeconds(30));
            Assert.Equal(4, call.GetProperty("appliedTransitions").GetInt32());

            using var history = JsonDocument.Parse(await api.GetStringAsync($"/api/calls/{Uri.EscapeDataString(callId)}/history"));
            var applied = Transitions(history.RootElement).Where(t => t.GetProperty("outcome").GetString() == "Applied").ToList();
            Assert.Equal(states.Select(x => x.ToString()), applied.Select(t => t.GetProperty("toStatus").GetString()));

            var published = await WaitForChangesAsync(callId, 4, TimeSpan.FromSeconds(30));
            Assert.Equal(states, published.Select(c => c.Status).Order());
            Assert.Equal(4, published.Select(c => c.EventId).Distinct().Count());
        }
    }

    [Fact]
    public async Task An_unknown_call_is_404_problem_details_and_the_api_needs_credentials()
    {
        using var anonymous = system.CreateClient(system.Gateway);
        using (var refused = await anonymous.GetAsync("/api/calls/CA0000"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        using var api = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        using var missing = await api.GetAsync("/api/calls/" + ProviderWebhooks.NewCallSid());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Killing_call_state_in_the_middle_of_a_5000_event_stream_loses_and_duplicates_nothing()
    {
        const int calls = 1250;
        string[] statuses = ["initiated", "ringing", "in-progress", "completed"];
        var ledger = Enumerable.Range(0, calls).Select(_ => ProviderWebhooks.NewCallSid()).ToArray();
        using var provider = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var before = system.App.GetResource(AppModel.CallStateName);
        var killed = 0;
        var sent = 0;
        var watch = Stopwatch.StartNew();

        // Four events per call, in order per call; calls interleaved; eight senders at once.
        var work = new ConcurrentQueue<(string Call, int Step)>(
            Enumerable.Range(0, statuses.Length).SelectMany(step => ledger.Select(call => (call, step))));
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (work.TryDequeue(out var item))
            {
                using var response = await provider.SendAsync(_webhooks.TwilioStatus(item.Call, statuses[item.Step], item.Step + 1));
                Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
                if (Interlocked.Increment(ref sent) == 2000 && Interlocked.Exchange(ref killed, 1) == 0)
                {
                    // Mid-stream: SIGKILL every call-state process.
                    foreach (var pid in system.App.GetResource(AppModel.CallStateName).ProcessIds)
                    {
                        Process.GetProcessById(pid).Kill();
                    }

                    output.WriteLine($"killed call-state after {sent} events ({watch.Elapsed.TotalSeconds:F1} s)");
                }
            }
        }));
        output.WriteLine($"sent 5000 events through the gateway in {watch.Elapsed.TotalSeconds:F1} s");

        await system.App.WaitForResourceHealthyAsync(AppModel.CallStateName, TimeSpan.FromMinutes(1));
        Assert.True(system.App.GetResource(AppModel.CallStateName).Restarts > before.Restarts);

        using var api = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        var drained = Stopwatch.StartNew();
        foreach (var call in ledger)
        {
            var view = await WaitForCallAsync(api, call, c => c.GetProperty("status").GetString() == "Completed", TimeSpan.FromSeconds(120));
            Assert.Equal(4, view.GetProperty("appliedTransitions").GetInt32());
        }

        output.WriteLine($"all {calls} calls completed with 4 transitions each, {drained.Elapsed.TotalSeconds:F1} s after the last webhook");
        foreach (var call in ledger.Take(50))
        {
            Assert.Equal(4, (await WaitForChangesAsync(call, 4, TimeSpan.FromSeconds(30))).Select(c => c.EventId).Distinct().Count());
        }
    }

    [Fact]
    public async Task With_redis_stopped_events_still_apply_and_the_api_answers_and_the_active_set_is_right_once_redis_returns()
    {
        using var provider = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        using var api = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        var endsDuringOutage = ProviderWebhooks.NewCallSid();
        var startsDuringOutage = ProviderWebhooks.NewCallSid();
        await SendAsync(provider, endsDuringOutage, "initiated", 1);
        await SendAsync(provider, endsDuringOutage, "ringing", 2);
        await WaitForCallAsync(api, endsDuringOutage, c => c.GetProperty("status").GetString() == "Ringing", TimeSpan.FromSeconds(30));
        Assert.Contains(endsDuringOutage, await ActiveCallsAsync(api));

        await system.App.StopResourceAsync("redis");
        try
        {
            await SendAsync(provider, endsDuringOutage, "completed", 3);
            await SendAsync(provider, startsDuringOutage, "initiated", 1);
            await SendAsync(provider, startsDuringOutage, "in-progress", 2);
            await WaitForCallAsync(api, endsDuringOutage, c => c.GetProperty("status").GetString() == "Completed", TimeSpan.FromSeconds(30));
            await WaitForCallAsync(api, startsDuringOutage, c => c.GetProperty("status").GetString() == "Answered", TimeSpan.FromSeconds(30));
            await system.WaitForHealthAsync(AppModel.CallStateName, HttpStatusCode.OK, TimeSpan.FromSeconds(10), expectedStatus: "Degraded");
        }
        finally
        {
            await system.App.StartResourceAsync("redis");
            await system.App.WaitForResourceHealthyAsync("redis", TimeSpan.FromMinutes(1));
        }

        var watch = Stopwatch.StartNew();
        while (true)
        {
            var active = await ActiveCallsAsync(api);
            if (!active.Contains(endsDuringOutage) && active.Contains(startsDuringOutage))
            {
                break;
            }

            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), "the active set was not rebuilt after Redis returned");
            await Task.Delay(250);
        }

        output.WriteLine($"active set right {watch.Elapsed.TotalSeconds:F1} s after Redis was back");
        await system.WaitForHealthAsync(AppModel.CallStateName, HttpStatusCode.OK, TimeSpan.FromSeconds(30), expectedStatus: "Healthy");
    }

    [Fact]
    public async Task Measure_webhook_accepted_to_visible_in_the_api()
    {
        using var provider = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        using var api = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        var latencies = new List<double>();
        for (var i = 0; i < 200; i++)
        {
            var call = ProviderWebhooks.NewCallSid();
            await SendAsync(provider, call, "ringing", 1);
            var accepted = Stopwatch.StartNew();
            while (true)
            {
                using var response = await api.GetAsync($"/api/calls/{call}");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    break;
                }

                Assert.True(accepted.Elapsed < TimeSpan.FromSeconds(30), "not visible within 30 s");
                await Task.Delay(2);
            }

            latencies.Add(accepted.Elapsed.TotalMilliseconds);
        }

        latencies.Sort();
        output.WriteLine($"webhook accepted -> visible in GET /api/calls/{{id}}: p50 {latencies[latencies.Count / 2]:F1} ms, " +
                         $"p99 {latencies[(int)(latencies.Count * 0.99)]:F1} ms, max {latencies[^1]:F1} ms over {latencies.Count} calls");
        Assert.True(latencies[latencies.Count / 2] < 5000, "p50 above 5 s: a gross regression");
    }

    private async Task SendAsync(HttpClient provider, string callSid, string status, int sequence)
    {
        using var response = await provider.SendAsync(_webhooks.TwilioStatus(callSid, status, sequence));
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    private static async Task<HashSet<string>> ActiveCallsAsync(HttpClient api)
    {
        using var document = JsonDocument.Parse(await api.GetStringAsync("/api/calls/active"));
        return [.. document.RootElement.GetProperty("items").EnumerateArray().Select(c => c.GetProperty("providerCallId").GetString()!)];
    }

    private static IEnumerable<JsonElement> Transitions(JsonElement history) =>
        history.GetProperty("items").EnumerateArray();

    private static async Task<JsonElement> WaitForCallAsync(HttpClient api, string callId, Func<JsonElement, bool> condition, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        var last = "not found";
        while (watch.Elapsed < within)
        {
            using var response = await api.GetAsync($"/api/calls/{Uri.EscapeDataString(callId)}");
            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var call = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                if (condition(call))
                {
                    return call;
                }
            }

            await Task.Delay(100);
        }

        throw new Xunit.Sdk.XunitException($"{callId} not as expected within {within.TotalSeconds} s; last: {last}");
    }

    private async Task<IReadOnlyList<CallStateChanged>> WaitForChangesAsync(string callId, int count, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < within)
        {
            if (_changes.TryGetValue(callId, out var queue) && queue.Count >= count)
            {
                await Task.Delay(500);
                return [.. queue];
            }

            await Task.Delay(100);
        }

        throw new Xunit.Sdk.XunitException($"fewer than {count} CallStateChanged for {callId} within {within.TotalSeconds} s");
    }

    public sealed class RecordingStateChanges(ConcurrentDictionary<string, ConcurrentQueue<CallStateChanged>> changes) : IConsumer<CallStateChanged>
    {
        public Task Consume(ConsumeContext<CallStateChanged> context)
        {
            changes.GetOrAdd(context.Message.ProviderCallId, _ => new()).Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }
}
