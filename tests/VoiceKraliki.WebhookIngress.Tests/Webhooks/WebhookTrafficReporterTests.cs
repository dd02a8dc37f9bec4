extern alias apphost;

using System.Collections.Concurrent;
using System.Net;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using apphost::VoiceKraliki.AppHost.Testing;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Messaging;
using VoiceKraliki.WebhookIngress.Tests.Apis;
using VoiceKraliki.WebhookIngress.Tests.Security;
using VoiceKraliki.WebhookIngress.Webhooks;

namespace VoiceKraliki.WebhookIngress.Tests.Webhooks;

/// <summary>What the traffic reporter counts and publishes, on MassTransit's in-memory bus and a clock the test moves.</summary>
public sealed class WebhookTrafficReporterTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    private readonly StoppedClock _clock = new(Start);
    private ServiceProvider _services = null!;
    private ITestHarness _bus = null!;

    private WebhookTrafficReporter Reporter => _services.GetRequiredService<WebhookTrafficReporter>();

    public async Task InitializeAsync()
    {
        _services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<TimeProvider>(_clock)
            .AddSingleton(Options.Create(new WebhookTrafficOptions { Instance = "ingress-test/1" }))
            .AddSingleton<WebhookTrafficReporter>()
            .AddMassTransitTestHarness()
            .BuildServiceProvider(validateScopes: true);
        _bus = _services.GetRequiredService<ITestHarness>();
        await _bus.Start();
    }

    public async Task DisposeAsync()
    {
        await _bus.Stop();
        await _services.DisposeAsync();
    }

    [Fact]
    public void A_few_answers_are_counted_by_provider_and_class_with_their_response_times_in_the_histogram()
    {
        var reporter = Reporter;
        reporter.Record(TelephonyProvider.Twilio, 204, WebhookOutcomeKind.Accepted, TimeSpan.FromMilliseconds(0.5));
        reporter.Record(TelephonyProvider.Twilio, 200, WebhookOutcomeKind.Duplicate, TimeSpan.FromMilliseconds(3));
        reporter.Record(TelephonyProvider.Twilio, 403, WebhookOutcomeKind.SignatureInvalid, TimeSpan.FromMilliseconds(15));
        reporter.Record(TelephonyProvider.Twilio, 503, WebhookOutcomeKind.BusUnavailable, TimeSpan.FromSeconds(3));
        // A voice webhook answered 200 with an apology because the bus was down is a server error.
        reporter.Record(TelephonyProvider.Twilio, 200, WebhookOutcomeKind.BusUnavailable, TimeSpan.FromSeconds(7));
        // The provider hung up before the answer: not answered, not counted.
        reporter.Record(TelephonyProvider.Twilio, 499, WebhookOutcomeKind.BusUnavailable, TimeSpan.FromSeconds(1));
        // A bucket's bound is inclusive.
        reporter.Record(TelephonyProvider.Telnyx, 400, WebhookOutcomeKind.Malformed, TimeSpan.FromMilliseconds(1));
        reporter.Record(null, 413, WebhookOutcomeKind.TooLarge, TimeSpan.FromMilliseconds(250));

        var reports = reporter.Collect(Start.AddSeconds(5));

        Assert.Equal([TelephonyProvider.Twilio, TelephonyProvider.Telnyx, null], reports.Select(r => r.Provider));
        var twilio = reports[0];
        Assert.Equal((2L, 1L, 2L), (twilio.Accepted, twilio.Rejected, twilio.ServerErrors));
        //                  ≤1 ≤2 ≤5 ≤10 ≤20 ≤50 ≤100 ≤200 ≤500 ≤1000 ≤2000 ≤5000 +∞
        Assert.Equal([1, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1], twilio.LatencyBucketCounts);
        Assert.Equal(TimeSpan.FromSeconds(5), twilio.Interval);
        Assert.Equal(Start.AddSeconds(5), twilio.OccurredAt);
        Assert.Equal("ingress-test/1", twilio.Instance);
        Assert.Equal(WebhookTrafficReported.LatencyBucketCount, twilio.LatencyBucketCounts.Count);

        Assert.Equal((0L, 1L, 0L), (reports[1].Accepted, reports[1].Rejected, reports[1].ServerErrors));
        Assert.Equal(1, reports[1].LatencyBucketCounts[0]);
        Assert.Equal(1, reports[2].LatencyBucketCounts[8]);

        // The counts were taken: the next interval starts from nothing.
        Assert.Empty(reporter.Collect(Start.AddSeconds(10)));
    }

    [Fact]
    public async Task Each_interval_with_traffic_is_published_and_an_interval_without_publishes_nothing()
    {
        var reporter = Reporter;
        for (var i = 0; i < 3; i++)
        {
            reporter.Record(TelephonyProvider.Telnyx, 200, WebhookOutcomeKind.Accepted, TimeSpan.FromMilliseconds(40));
        }

        _clock.Advance(TimeSpan.FromSeconds(5));
        await reporter.ReportAsync(CancellationToken.None);

        Assert.True(await _bus.Published.Any<WebhookTrafficReported>());
        var published = Assert.Single(_bus.Published.Select<WebhookTrafficReported>()).Context.Message;
        Assert.Equal((TelephonyProvider.Telnyx, 3L), (published.Provider, published.Accepted));
        Assert.Equal(3, published.LatencyBucketCounts[5]);

        _clock.Advance(TimeSpan.FromSeconds(5));
        await reporter.ReportAsync(CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(5));
        await reporter.ReportAsync(CancellationToken.None);

        Assert.Single(_bus.Published.Select<WebhookTrafficReported>());

        reporter.Record(TelephonyProvider.Telnyx, 204, WebhookOutcomeKind.Accepted, TimeSpan.FromMilliseconds(40));
        _clock.Advance(TimeSpan.FromSeconds(5));
        await reporter.ReportAsync(CancellationToken.None);
        var next = _bus.Published.Select<WebhookTrafficReported>().Select(p => p.Context.Message).Last();
        // An interval is the time since the previous one ended, published or not.
        Assert.Equal((1L, TimeSpan.FromSeconds(5)), (next.Accepted, next.Interval));
    }

    [Fact]
    public async Task Recording_from_many_threads_while_reporting_loses_no_answer()
    {
        var reporter = Reporter;
        var collected = new ConcurrentBag<WebhookTrafficReported>();
        using var stop = new CancellationTokenSource();
        var collector = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var report in reporter.Collect(Start))
                {
                    collected.Add(report);
                }
            }
        });

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                reporter.Record(TelephonyProvider.Twilio, i % 4 == 0 ? 403 : 204, WebhookOutcomeKind.Accepted, TimeSpan.FromMilliseconds(i % 7));
            }
        })));
        await stop.CancelAsync();
        await collector;
        foreach (var report in reporter.Collect(Start))
        {
            collected.Add(report);
        }

        Assert.Equal(30_000, collected.Sum(r => r.Accepted));
        Assert.Equal(10_000, collected.Sum(r => r.Rejected));
        Assert.Equal(40_000, collected.Sum(r => r.LatencyBucketCounts.Sum()));
    }

    [Fact]
    public void The_interval_must_be_sensible()
    {
        var options = new WebhookTrafficOptions { Interval = TimeSpan.FromMilliseconds(10) };
        var error = Assert.Single(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)));
        Assert.StartsWith("WebhookTraffic:Interval", error.ErrorMessage, StringComparison.Ordinal);
    }

    private sealed class StoppedClock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public void Advance(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}

/// <summary>The real service on the real RabbitMQ: webhooks it answers reach the bus as traffic reports.</summary>
[Collection(RedisCollection.Name)]
public sealed class WebhookTrafficReportedOnTheBusTests(RedisFixture infrastructure)
{
    [Fact]
    public async Task The_webhooks_the_service_answers_are_reported_on_the_bus()
    {
        var messaging = infrastructure.App.GetConnectionString("messaging");
        var instance = "ingress-" + Guid.NewGuid().ToString("N")[..8];
        var listener = await StartListenerAsync(messaging);
        try
        {
            await ReportedAsync(listener.Services.GetRequiredService<ConcurrentQueue<WebhookTrafficReported>>(), messaging, instance);
        }
        finally
        {
            await listener.StopAsync();
            listener.Dispose();
        }
    }

    private async Task ReportedAsync(ConcurrentQueue<WebhookTrafficReported> received, string messaging, string instance)
    {

        await using var host = new IngressHost(infrastructure.ConnectionString, messaging, new Dictionary<string, string?>
        {
            ["WebhookTraffic:Interval"] = "00:00:00.2",
            ["WebhookTraffic:Instance"] = instance,
            // Other tests of the collection leave this client over its limits in the shared Redis; limits are not under test.
            ["WebhookSecurity:RateLimit:Enabled"] = "false",
        });
        using var client = host.CreateClient();
        for (var i = 1; i <= 2; i++)
        {
            using var accepted = await client.SendAsync(IngressHost.TwilioForm("/webhooks/twilio/status", IngressHost.StatusFields("CA" + Guid.NewGuid().ToString("N"), "ringing", i)));
            Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        }

        using (var forged = await client.SendAsync(IngressHost.TwilioForm("/webhooks/twilio/status", IngressHost.StatusFields("CA1", "ringing", 1), "bm90IGEgc2lnbmF0dXJl")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        List<WebhookTrafficReported> ours;
        while ((ours = [.. received.Where(r => r.Instance == instance)]).Sum(r => r.Accepted + r.Rejected) < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, "the three webhooks were not reported within 30 s");
            await Task.Delay(100);
        }

        Assert.All(ours, r => Assert.Equal(TelephonyProvider.Twilio, r.Provider));
        Assert.Equal((2L, 1L, 0L), (ours.Sum(r => r.Accepted), ours.Sum(r => r.Rejected), ours.Sum(r => r.ServerErrors)));
        Assert.Equal(3, ours.Sum(r => r.LatencyBucketCounts.Sum()));
    }

    private static async Task<IHost> StartListenerAsync(string messaging)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:messaging"] = messaging });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new ConcurrentQueue<WebhookTrafficReported>());
        builder.AddEventBus(bus => bus.AddConsumer<TrafficCatcher>()
            .Endpoint(e => { e.Name = "traffic-test-" + Guid.NewGuid().ToString("N")[..8]; e.Temporary = true; }));
        var host = builder.Build();
        await host.StartAsync();
        await HealthWait.UntilHealthyAsync(host.Services, TimeSpan.FromSeconds(30));
        return host;
    }

    public sealed class TrafficCatcher(ConcurrentQueue<WebhookTrafficReported> received) : IConsumer<WebhookTrafficReported>
    {
        public Task Consume(ConsumeContext<WebhookTrafficReported> context)
        {
            received.Enqueue(context.Message);
            return Task.CompletedTask;
        }
    }
}
