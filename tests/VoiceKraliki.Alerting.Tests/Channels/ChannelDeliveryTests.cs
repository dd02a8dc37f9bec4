using System.Diagnostics;
using System.Globalization;
using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.Alerting.Notifications.Channels;

namespace VoiceKraliki.Alerting.Tests.Channels;

/// <summary>Delivery: rate limits, retries, deadlines, and channels that never hold each other up.</summary>
public class ChannelDeliveryTests
{
    private static Notification Firing() => Samples.Group(Samples.Alert("twilio"));

    [Fact]
    public async Task Deliveries_to_one_channel_are_spaced_by_its_rate_and_none_is_dropped()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var harness = ChannelHarness.Create();
        var config = Samples.Slack(receiver, ratePerMinute: 120);

        var started = Stopwatch.GetTimestamp();
        var reports = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => harness.Delivery.DeliverAsync(config, Firing(), CancellationToken.None)));

        Assert.All(reports, r => Assert.Equal(DeliveryOutcome.Delivered, r.Outcome));
        // 120 a minute is one every 500 ms: the k-th request cannot reach the receiver before k × 500 ms (a request may
        // be late, never early), and neither can its send.
        var arrivals = receiver.Requests.Select(r => Stopwatch.GetElapsedTime(started, r.Timestamp)).Order().ToArray();
        Assert.Equal(4, arrivals.Length);
        for (var k = 0; k < arrivals.Length; k++)
        {
            Assert.True(arrivals[k] >= TimeSpan.FromMilliseconds(k * 500), $"request {k + 1} arrived after {arrivals[k].TotalMilliseconds:F0} ms");
        }

        var firstAsked = reports.Min(r => r.StartedAt);
        var sends = reports.Select(r => r.Attempts.Single().At - firstAsked).Order().ToArray();
        for (var k = 0; k < sends.Length; k++)
        {
            Assert.True(sends[k] >= TimeSpan.FromMilliseconds(k * 500), $"send {k + 1} went after {sends[k].TotalMilliseconds:F0} ms");
        }

        Assert.True(arrivals[^1] < TimeSpan.FromSeconds(5), $"the last request arrived after {arrivals[^1].TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task Rate_limit_waits_run_on_the_clock_one_after_another()
    {
        var clock = new ManualClock();
        await using var receiver = await HttpReceiver.StartAsync();
        await using var harness = ChannelHarness.Create(clock);
        var config = Samples.Slack(receiver, ratePerMinute: 6);

        var reports = await clock.RunAsync(Task.WhenAll(Enumerable.Range(0, 3).Select(_ => harness.Delivery.DeliverAsync(config, Firing(), CancellationToken.None))));

        Assert.Equal([0.0, 10.0, 20.0], reports.Select(r => (r.Attempts.Single().At - ManualClock.Epoch).TotalSeconds).Order());
    }

    [Fact]
    public async Task A_slow_channel_and_a_queued_channel_do_not_hold_up_another()
    {
        await using var slow = await HttpReceiver.StartAsync(_ => new ScriptedAnswer(200, "ok", Delay: TimeSpan.FromSeconds(4)));
        await using var queued = await HttpReceiver.StartAsync();
        await using var fast = await HttpReceiver.StartAsync();
        await using var harness = ChannelHarness.Create();
        using var stop = new CancellationTokenSource();

        // One slow receiver, and a channel whose rate (1 a minute) makes its second delivery wait a minute.
        var slowDelivery = harness.Delivery.DeliverAsync(Samples.Slack(slow), Firing(), stop.Token);
        var queuedConfig = Samples.Webhook(queued) with { RatePerMinute = 1 };
        await harness.Delivery.DeliverAsync(queuedConfig, Firing(), CancellationToken.None);
        var waiting = harness.Delivery.DeliverAsync(queuedConfig, Firing(), stop.Token);
        while (slow.Count == 0)
        {
            await Task.Delay(10);
        }

        var watch = Stopwatch.StartNew();
        var report = await harness.Delivery.DeliverAsync(Samples.Slack(fast), Firing(), CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed.TotalMilliseconds:F0} ms");
        Assert.False(slowDelivery.IsCompleted);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, queued.Count);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slowDelivery);
    }

    [Fact]
    public async Task Retrying_stops_at_the_deadline_and_says_so()
    {
        var clock = new ManualClock();
        await using var receiver = await HttpReceiver.StartAsync(_ => new ScriptedAnswer(503, "down"));
        await using var harness = ChannelHarness.Create(clock, configure: o =>
        {
            o.DeliveryDeadline = TimeSpan.FromSeconds(10);
            o.BackoffJitter = 0;
        });

        var report = await clock.RunAsync(harness.Delivery.DeliverAsync(Samples.Webhook(receiver), Firing(), CancellationToken.None));

        // Attempts at 0, 1, 3 and 7 s; the next would be at 15 s, past the 10 s deadline.
        Assert.Equal(DeliveryOutcome.Retry, report.Outcome);
        Assert.Equal([0.0, 1.0, 3.0, 7.0], report.Attempts.Select(a => (a.At - ManualClock.Epoch).TotalSeconds));
        Assert.Equal(4, receiver.Count);
        Assert.StartsWith("Gave up after 4 attempt(s)", report.Error);
        Assert.Contains("HTTP 503", report.Error);
        Assert.Equal(TimeSpan.FromSeconds(7), report.Elapsed);
    }

    [Fact]
    public void Backoff_doubles_up_to_its_cap()
    {
        var options = new ChannelDeliveryOptions { BackoffJitter = 0 };

        Assert.Equal(
            [1, 2, 4, 8, 16, 32, 60, 60, 60],
            Enumerable.Range(1, 9).Select(n => ChannelDelivery.Backoff(n, options).TotalSeconds));
        var jittered = new ChannelDeliveryOptions();
        Assert.All(Enumerable.Range(0, 200), _ => Assert.InRange(ChannelDelivery.Backoff(10, jittered).TotalSeconds, 48, 60));
    }

    [Fact]
    public async Task A_Retry_After_date_is_honoured_exactly()
    {
        var clock = new ManualClock();
        var retryAt = ManualClock.Epoch.AddSeconds(45).ToString("r", CultureInfo.InvariantCulture);
        await using var receiver = await HttpReceiver.StartAsync(n => n == 1
            ? new ScriptedAnswer(503, "maintenance", new Dictionary<string, string> { ["Retry-After"] = retryAt })
            : ScriptedAnswer.Ok);
        await using var harness = ChannelHarness.Create(clock);

        var report = await clock.RunAsync(harness.Delivery.DeliverAsync(Samples.Webhook(receiver), Firing(), CancellationToken.None));

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(45), report.Attempts[0].RetryAfter);
        Assert.Equal(ManualClock.Epoch.AddSeconds(45), report.Attempts[1].At);
    }

    [Fact]
    public async Task A_Retry_After_beyond_the_cap_waits_only_the_cap()
    {
        var clock = new ManualClock();
        await using var receiver = await HttpReceiver.StartAsync(n => n == 1
            ? new ScriptedAnswer(429, "slow down", new Dictionary<string, string> { ["Retry-After"] = "86400" })
            : ScriptedAnswer.Ok);
        await using var harness = ChannelHarness.Create(clock, configure: o => o.MaxRetryAfter = TimeSpan.FromSeconds(30));

        var report = await clock.RunAsync(harness.Delivery.DeliverAsync(Samples.Slack(receiver), Firing(), CancellationToken.None));

        Assert.Equal(DeliveryOutcome.Delivered, report.Outcome);
        Assert.Equal(ManualClock.Epoch.AddSeconds(30), report.Attempts[1].At);
    }

    [Fact]
    public async Task An_unusable_configuration_fails_without_sending()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var harness = ChannelHarness.Create();

        var unknown = await harness.Delivery.DeliverAsync(Samples.Slack(receiver) with { Type = "carrier-pigeon" }, Firing(), CancellationToken.None);
        var invalid = await harness.Delivery.DeliverAsync(
            Samples.Config(ChannelTypes.Email, new Dictionary<string, string> { ["host"] = "127.0.0.1", ["to"] = "not-an-address", ["from"] = "alerts@example.test" }),
            Firing(),
            CancellationToken.None);

        Assert.Equal(DeliveryOutcome.Failed, unknown.Outcome);
        Assert.Contains("type must be one of: slack, pagerduty, email, webhook", unknown.Error);
        Assert.Equal(DeliveryOutcome.Failed, invalid.Outcome);
        Assert.Contains("settings.to", invalid.Error);
        Assert.Empty(unknown.Attempts);
        Assert.Empty(invalid.Attempts);
        Assert.Equal(0, receiver.Count);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(0)]
    public async Task A_rate_outside_what_the_api_stores_still_sends_without_a_limit(int ratePerMinute)
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var harness = ChannelHarness.Create();
        var config = Samples.Webhook(receiver) with { RatePerMinute = ratePerMinute };

        var reports = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => harness.Delivery.DeliverAsync(config, Firing(), CancellationToken.None)));

        Assert.All(reports, r => Assert.Equal(DeliveryOutcome.Delivered, r.Outcome));
        Assert.All(reports, r => Assert.True(r.Elapsed < TimeSpan.FromSeconds(2), $"took {r.Elapsed.TotalMilliseconds:F0} ms"));
        Assert.Contains("ratePerMinute", harness.Delivery.Validate(config).Keys);
    }

    [Fact]
    public async Task A_channel_without_send_resolved_hears_only_of_firing_alerts()
    {
        await using var receiver = await HttpReceiver.StartAsync();
        await using var harness = ChannelHarness.Create();
        var config = Samples.Webhook(receiver) with { SendResolved = false };

        var resolved = await harness.Delivery.DeliverAsync(config, Samples.Group(Samples.Alert("twilio", Notification.Resolved)), CancellationToken.None);
        var mixed = await harness.Delivery.DeliverAsync(config, Samples.Group(Samples.Alert("twilio"), Samples.Alert("telnyx", Notification.Resolved)), CancellationToken.None);

        Assert.True(resolved.Skipped);
        Assert.Empty(resolved.Attempts);
        Assert.Equal(DeliveryOutcome.Delivered, mixed.Outcome);
        var alerts = Assert.Single(receiver.Requests).Json["alerts"]!.AsArray();
        Assert.Equal("twilio", Assert.Single(alerts)!["labels"]!["provider"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cancelling_stops_a_delivery_waiting_to_retry()
    {
        var clock = new ManualClock();
        await using var receiver = await HttpReceiver.StartAsync(_ => new ScriptedAnswer(500));
        await using var harness = ChannelHarness.Create(clock);
        using var cancel = new CancellationTokenSource();

        var delivery = harness.Delivery.DeliverAsync(Samples.Slack(receiver), Firing(), cancel.Token);
        while (receiver.Count == 0)
        {
            await Task.Delay(10);
        }

        await Task.Delay(100);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delivery);
        Assert.Equal(1, receiver.Count);
    }

    [Fact]
    public async Task A_refused_connection_is_retried()
    {
        var clock = new ManualClock();
        await using var harness = ChannelHarness.Create(clock, configure: o => o.DeliveryDeadline = TimeSpan.FromSeconds(2));
        var url = new Uri($"http://127.0.0.1:{ClosedPort.Find()}/hook");

        var report = await clock.RunAsync(harness.Delivery.DeliverAsync(
            Samples.Config(ChannelTypes.Webhook, secrets: new Dictionary<string, string> { ["url"] = url.AbsoluteUri }),
            Firing(),
            CancellationToken.None));

        Assert.Equal(DeliveryOutcome.Retry, report.Outcome);
        Assert.True(report.Attempts.Count >= 2);
        Assert.All(report.Attempts, a => Assert.Contains("refused", a.Error, StringComparison.OrdinalIgnoreCase));
    }
}
