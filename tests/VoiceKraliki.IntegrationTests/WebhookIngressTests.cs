using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Xml.Linq;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using VoiceKraliki.AppHost;
using VoiceKraliki.Contracts;
using VoiceKraliki.IntegrationTests.Support;
using VoiceKraliki.ServiceDefaults.Tests.Metrics;
using VoiceKraliki.Telephony.Signatures;
using Xunit.Abstractions;

namespace VoiceKraliki.IntegrationTests;

/// <summary>
/// Provider webhooks through the gateway to webhook-ingress (two replicas) on the real servers: signed
/// ones reach the bus once, forged, stale and repeated ones never do, and a flood is cut off per address.
/// Requests come from distinct loopback addresses (127.0.0.x) so that each test has its own client IP.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class WebhookIngressTests(SystemFixture system, ITestOutputHelper output) : IAsyncLifetime
{
    private readonly CallEventRecorder _recorder = new();
    private readonly ProviderWebhooks _webhooks = new(system.Gateway);
    private IHost _listener = null!;

    public async Task InitializeAsync() =>
        _listener = await BusListener.StartAsync<RecordingCallEvents>(system, "it-webhook-events", services => services.AddSingleton(_recorder));

    public async Task DisposeAsync()
    {
        await _listener.StopAsync();
        _listener.Dispose();
    }

    [Fact]
    public async Task A_signed_twilio_status_callback_is_accepted_and_published_exactly_once()
    {
        using var client = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var callSid = ProviderWebhooks.NewCallSid();
        using var response = await client.SendAsync(_webhooks.TwilioStatus(callSid, "ringing", sequence: 1));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var published = await _recorder.NextAsync(callSid, TimeSpan.FromSeconds(15));
        Assert.Equal(TelephonyProvider.Twilio, published.Provider);
        Assert.Equal(CallStatus.Ringing, published.Status);
        Assert.Equal("+15005550006", published.From);
        Assert.False(await _recorder.AnyMoreAsync(callSid, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task A_signed_telnyx_call_answered_is_accepted_and_published_exactly_once()
    {
        using var client = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var callId = "v3:" + Guid.NewGuid().ToString("N");
        using var response = await client.SendAsync(ProviderWebhooks.TelnyxEvent(callId, "call.answered", DateTimeOffset.UtcNow));

        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var published = await _recorder.NextAsync(callId, TimeSpan.FromSeconds(15));
        Assert.Equal(TelephonyProvider.Telnyx, published.Provider);
        Assert.Equal(CallStatus.Answered, published.Status);
        Assert.False(await _recorder.AnyMoreAsync(callId, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task The_same_requests_with_one_byte_changed_are_refused_with_403_and_publish_nothing()
    {
        using var client = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var callSid = ProviderWebhooks.NewCallSid();
        var twilio = _webhooks.TwilioStatus(callSid, "completed", sequence: 3);
        var body = await twilio.Content!.ReadAsByteArrayAsync();
        body[^1] ^= 0x01;
        twilio.Content = ProviderWebhooks.Form(body);
        using (var response = await client.SendAsync(twilio))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        var callId = "v3:" + Guid.NewGuid().ToString("N");
        var telnyx = ProviderWebhooks.TelnyxEvent(callId, "call.answered", DateTimeOffset.UtcNow);
        var telnyxBody = await telnyx.Content!.ReadAsByteArrayAsync();
        telnyxBody[telnyxBody.Length / 2] ^= 0x01;
        var tampered = new ByteArrayContent(telnyxBody);
        tampered.Headers.ContentType = new("application/json");
        telnyx.Content = tampered;
        using (var response = await client.SendAsync(telnyx))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }

        Assert.False(await _recorder.AnyMoreAsync(callSid, TimeSpan.FromSeconds(2)));
        Assert.False(await _recorder.AnyMoreAsync(callId, TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task A_telnyx_webhook_301_seconds_old_is_refused_with_403()
    {
        using var client = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var callId = "v3:" + Guid.NewGuid().ToString("N");
        using var response = await client.SendAsync(ProviderWebhooks.TelnyxEvent(callId, "call.answered", DateTimeOffset.UtcNow.AddSeconds(-301)));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(await _recorder.AnyMoreAsync(callId, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task The_same_valid_request_sent_twice_is_published_once()
    {
        using var client = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var callSid = ProviderWebhooks.NewCallSid();
        using (var first = await client.SendAsync(_webhooks.TwilioStatus(callSid, "in-progress", sequence: 2)))
        using (var second = await client.SendAsync(_webhooks.TwilioStatus(callSid, "in-progress", sequence: 2)))
        {
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, second.StatusCode);
        }

        var callId = "v3:" + Guid.NewGuid().ToString("N");
        var at = DateTimeOffset.UtcNow;
        var eventId = Guid.NewGuid();
        using (var first = await client.SendAsync(ProviderWebhooks.TelnyxEvent(callId, "call.answered", at, eventId)))
        using (var second = await client.SendAsync(ProviderWebhooks.TelnyxEvent(callId, "call.answered", at, eventId)))
        {
            Assert.True(first.IsSuccessStatusCode);
            Assert.True(second.IsSuccessStatusCode);
        }

        await _recorder.NextAsync(callSid, TimeSpan.FromSeconds(15));
        await _recorder.NextAsync(callId, TimeSpan.FromSeconds(15));
        Assert.False(await _recorder.AnyMoreAsync(callSid, TimeSpan.FromSeconds(2)));
        Assert.False(await _recorder.AnyMoreAsync(callId, TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task The_101st_invalid_request_from_one_address_gets_429_across_both_replicas_while_another_address_passes()
    {
        Assert.Equal(2, system.App.GetResource(AppModel.WebhookIngressName).Replicas.Count);
        var before = await RejectionsPerReplicaAsync();

        // The limit's sliding window is two minute buckets, the earlier one weighted by how much of it is still inside
        // the window: requests spread across a bucket boundary count a little less than 100 (by design, as Cloudflare's
        // does). The 101st is blocked exactly only when all 101 fall in one bucket, so start well inside one.
        var intoMinute = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % 60_000;
        if (intoMinute > 45_000)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(60_000 - intoMinute + 250));
        }

        using var attacker = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        for (var i = 1; i <= 100; i++)
        {
            using var forged = await attacker.SendAsync(_webhooks.Forged(ProviderWebhooks.NewCallSid()));
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        }

        using (var blocked = await attacker.SendAsync(_webhooks.Forged(ProviderWebhooks.NewCallSid())))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, blocked.StatusCode);
            Assert.True(blocked.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After is missing");
        }

        // Blocked for genuine requests too, from that address.
        using (var genuineFromAttacker = await attacker.SendAsync(_webhooks.TwilioStatus(ProviderWebhooks.NewCallSid(), "ringing", 1)))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, genuineFromAttacker.StatusCode);
        }

        using var other = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var callSid = ProviderWebhooks.NewCallSid();
        using (var fine = await other.SendAsync(_webhooks.TwilioStatus(callSid, "ringing", 1)))
        {
            Assert.Equal(HttpStatusCode.NoContent, fine.StatusCode);
        }

        await _recorder.NextAsync(callSid, TimeSpan.FromSeconds(15));

        // Both replicas refused some of the forged requests: the count was shared through Redis.
        var after = await RejectionsPerReplicaAsync();
        for (var replica = 0; replica < after.Length; replica++)
        {
            output.WriteLine($"replica {replica}: {after[replica] - before[replica]} forged requests refused with 403");
            Assert.True(after[replica] > before[replica], $"replica {replica} saw none of the forged requests");
        }
    }

    [Fact]
    public async Task The_voice_webhook_answers_twiml_that_connects_a_bidirectional_stream_with_a_token()
    {
        using var client = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var callSid = ProviderWebhooks.NewCallSid();
        using var response = await client.SendAsync(_webhooks.TwilioRequest("/webhooks/twilio/voice", [
            new("AccountSid", "AC00000000000000000000000000000001"), new("ApiVersion", "2010-04-01"), new("CallSid", callSid),
            new("CallStatus", "ringing"), new("Direction", "inbound"), new("From", "+15005550006"), new("To", "+15005550001")]));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/xml", response.Content.Headers.ContentType?.MediaType);
        var twiml = XDocument.Parse(await response.Content.ReadAsStringAsync());
        var stream = twiml.Root!.Element("Connect")!.Element("Stream")!;
        Assert.Equal($"ws://{system.Gateway.Authority}/media/twilio", stream.Attribute("url")!.Value);
        var parameters = stream.Elements("Parameter").ToDictionary(p => p.Attribute("name")!.Value, p => p.Attribute("value")!.Value);
        Assert.Equal(callSid, parameters["callSid"]);
        Assert.False(string.IsNullOrEmpty(parameters["token"]));
        Assert.Equal(CallStatus.Ringing, (await _recorder.NextAsync(callSid, TimeSpan.FromSeconds(15))).Status);
    }

    [Fact]
    public async Task Webhook_metrics_count_requests_by_provider_and_status_and_time_them()
    {
        var before = await AcceptedPerReplicaAsync();
        using var client = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        for (var i = 0; i < 4; i++)
        {
            using var response = await client.SendAsync(_webhooks.TwilioStatus(ProviderWebhooks.NewCallSid(), "ringing", 1));
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        // The gateway balances across the replicas: together they counted all four.
        var after = await AcceptedPerReplicaAsync();
        Assert.Equal(4, after.Sum() - before.Sum());

        using var scrape = new HttpClient();
        for (var replica = 0; replica < after.Length; replica++)
        {
            if (after[replica] == 0)
            {
                continue;
            }

            var document = PrometheusTextParser.Parse(await scrape.GetStringAsync(new Uri(system.App.GetEndpoint(AppModel.WebhookIngressName, replica), "/metrics")));
            Assert.Equal("counter", document.Family("telephony_webhook_requests_total").Type);
            var duration = document.Family("telephony_webhook_request_duration_seconds");
            Assert.Equal("histogram", duration.Type);
            Assert.True(duration.Histogram(("provider", "twilio"), ("status", "204")).Count >= 1);
        }
    }

    private async Task<double[]> AcceptedPerReplicaAsync()
    {
        var replicas = system.App.GetResource(AppModel.WebhookIngressName).Replicas.Count;
        var counts = new double[replicas];
        using var scrape = new HttpClient();
        for (var i = 0; i < replicas; i++)
        {
            var document = PrometheusTextParser.Parse(await scrape.GetStringAsync(new Uri(system.App.GetEndpoint(AppModel.WebhookIngressName, i), "/metrics")));
            counts[i] = document.Find("telephony_webhook_requests_total")?.Samples
                .Where(s => s.Labels.GetValueOrDefault("provider") == "twilio" && s.Labels.GetValueOrDefault("status") == "204")
                .Sum(s => s.Value) ?? 0;
        }

        return counts;
    }

    [Fact]
    public async Task With_rabbitmq_stopped_a_valid_webhook_gets_503_within_5_s_and_its_retry_is_published_after_recovery()
    {
        using var client = _webhooks.ClientFrom(ProviderWebhooks.NextAddress());
        var callSid = ProviderWebhooks.NewCallSid();
        await system.App.StopResourceAsync("messaging");
        try
        {
            var watch = Stopwatch.StartNew();
            using var refused = await client.SendAsync(_webhooks.TwilioStatus(callSid, "completed", sequence: 4));
            output.WriteLine($"503 after {watch.Elapsed.TotalSeconds:F2} s");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
        }
        finally
        {
            await system.App.StartResourceAsync("messaging");
            await system.App.WaitForResourceHealthyAsync("messaging", TimeSpan.FromMinutes(1));
        }

        await system.WaitForHealthAsync(AppModel.WebhookIngressName, HttpStatusCode.OK, TimeSpan.FromSeconds(60));
        await WaitForListenerAsync();

        // Twilio's retry: the same request again.
        using var retried = await client.SendAsync(_webhooks.TwilioStatus(callSid, "completed", sequence: 4));
        Assert.Equal(HttpStatusCode.NoContent, retried.StatusCode);
        Assert.Equal(CallStatus.Completed, (await _recorder.NextAsync(callSid, TimeSpan.FromSeconds(30))).Status);
    }

    private async Task WaitForListenerAsync()
    {
        var health = _listener.Services.GetRequiredService<HealthCheckService>();
        var watch = Stopwatch.StartNew();
        while ((await health.CheckHealthAsync()).Status != HealthStatus.Healthy && watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(250);
        }
    }

    private async Task<double[]> RejectionsPerReplicaAsync()
    {
        var replicas = system.App.GetResource(AppModel.WebhookIngressName).Replicas.Count;
        var counts = new double[replicas];
        using var scrape = new HttpClient();
        for (var i = 0; i < replicas; i++)
        {
            var document = PrometheusTextParser.Parse(await scrape.GetStringAsync(new Uri(system.App.GetEndpoint(AppModel.WebhookIngressName, i), "/metrics")));
            counts[i] = document.Find("telephony_webhook_requests_total")?.Samples
                .Where(s => s.Labels.GetValueOrDefault("status") == "403").Sum(s => s.Value) ?? 0;
        }

        return counts;
    }

    public sealed class CallEventRecorder
    {
        private readonly ConcurrentDictionary<string, BlockingCollection<CallEventReceived>> _byCall = new();

        public void Add(CallEventReceived message) => Queue(message.ProviderCallId).Add(message);

        public async Task<CallEventReceived> NextAsync(string callId, TimeSpan within) =>
            await Task.Run(() => Queue(callId).TryTake(out var next, within)
                ? next
                : throw new Xunit.Sdk.XunitException($"No CallEventReceived for {callId} within {within.TotalSeconds} s."));

        public async Task<bool> AnyMoreAsync(string callId, TimeSpan within) => await Task.Run(() => Queue(callId).TryTake(out _, within));

        private BlockingCollection<CallEventReceived> Queue(string callId) => _byCall.GetOrAdd(callId, _ => []);
    }

    public sealed class RecordingCallEvents(CallEventRecorder recorder) : IConsumer<CallEventReceived>
    {
        public Task Consume(ConsumeContext<CallEventReceived> context)
        {
            recorder.Add(context.Message);
            return Task.CompletedTask;
        }
    }
}
