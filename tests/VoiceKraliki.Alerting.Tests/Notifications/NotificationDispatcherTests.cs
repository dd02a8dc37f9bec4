using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using VoiceKraliki.Alerting.Lifecycle;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.Alerting.Notifications.Channels;
using VoiceKraliki.Alerting.Signals;
using VoiceKraliki.Alerting.Tests.Support;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.Alerting.Tests.Notifications;

/// <summary>
/// The dispatcher on a clock the test moves, over a real Postgres (notification log, silences, channels): what is told
/// to which channel and when. Deliveries are recorded at the channel boundary; the channels themselves are tested
/// against real receivers in Channels/.
/// </summary>
[Collection(AlertingInfrastructureCollection.Name)]
public sealed class NotificationDispatcherTests(AlertingInfrastructure infrastructure) : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private readonly ManualClock _clock = new(Start);
    private readonly RecordingDelivery _delivery = new();
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private ChannelStore _channels = null!;
    private SilenceStore _silences = null!;
    private ChannelConfig _slack = null!;

    public async Task InitializeAsync()
    {
        _database = await infrastructure.CreateDatabaseAsync();
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        using (var runner = new MigrationRunner(_dataSource, new MigrationSource(typeof(SignalStore).Assembly), NullLogger<MigrationRunner>.Instance, TimeProvider.System))
        {
            await runner.ApplyAsync(CancellationToken.None);
        }

        _channels = new ChannelStore(_dataSource, Options.Create(new AlertingOptions { SecretKey = Convert.ToBase64String(new byte[32]) }), _clock);
        _silences = new SilenceStore(_dataSource, _clock);
        _slack = await AddChannelAsync("slack");
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task A_new_alert_is_told_once_after_group_wait_and_not_again_after_a_restart_until_repeat_interval()
    {
        var dispatcher = NewDispatcher();
        var alert = Firing("call_drop_rate_high", "twilio");

        Assert.Equal(0, await RoundAsync(dispatcher, alert));
        _clock.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(0, await RoundAsync(dispatcher, alert));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, await RoundAsync(dispatcher, alert));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, await RoundAsync(dispatcher, alert));

        var sent = Assert.Single(_delivery.Sent);
        Assert.Equal((Notification.Firing, "slack", "default"), (sent.Notification.Status, sent.Channel.Name, sent.Notification.Receiver));
        Assert.Equal(alert.Fingerprint, Assert.Single(sent.Notification.Alerts).Fingerprint);

        // A restarted (or newly leading) replica reads the log: the channel knows already.
        var restarted = NewDispatcher();
        _clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, await RoundAsync(restarted, alert));
        _clock.Advance(TimeSpan.FromHours(3));
        Assert.Equal(1, await RoundAsync(restarted, alert));
        Assert.Equal(2, _delivery.Sent.Count);
    }

    [Fact]
    public async Task A_resolution_is_told_at_once_and_once()
    {
        var dispatcher = NewDispatcher();
        var alert = Firing("call_drop_rate_high", "twilio");
        _clock.Advance(TimeSpan.FromSeconds(30));
        await RoundAsync(dispatcher, alert);

        _clock.Advance(TimeSpan.FromSeconds(10)); // well inside group_interval
        var resolved = Resolve(alert);
        Assert.Equal(1, await RoundAsync(dispatcher, resolved));
        Assert.Equal(0, await RoundAsync(dispatcher, resolved));
        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(0, await RoundAsync(dispatcher, resolved));

        var told = _delivery.Sent[^1].Notification;
        Assert.Equal(Notification.Resolved, told.Status);
        Assert.Equal(Notification.Resolved, Assert.Single(told.Alerts).Status);
        Assert.Equal(2, _delivery.Sent.Count);
    }

    [Fact]
    public async Task A_silenced_alert_notifies_nobody_and_resolves_without_a_word()
    {
        await _silences.CreateAsync([Matcher("provider=\"twilio\"")], Start, Start.AddHours(1), "ops", "maintenance", CancellationToken.None);
        var dispatcher = NewDispatcher();
        var alert = Firing("call_drop_rate_high", "twilio");

        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, await RoundAsync(dispatcher, alert));
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, await RoundAsync(dispatcher, Resolve(alert)));
        Assert.Empty(_delivery.Sent);
    }

    [Fact]
    public async Task An_inhibited_alert_notifies_nobody_while_its_source_fires_and_resolves_cleanly()
    {
        var dispatcher = NewDispatcher();
        var down = Firing("provider_unhealthy", "twilio", "critical");
        var drops = Firing("call_drop_rate_high", "twilio");
        var telnyxDrops = Firing("call_drop_rate_high", "telnyx");

        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, await RoundAsync(dispatcher, down, drops, telnyxDrops));
        Assert.Equal(
            ["call_drop_rate_high/telnyx", "provider_unhealthy/twilio"],
            _delivery.Sent.Select(s => $"{s.Notification.Alerts[0].RuleName}/{s.Notification.Alerts[0].Labels["provider"]}").Order());

        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, await RoundAsync(dispatcher, down, Resolve(drops), telnyxDrops));
        Assert.Equal(2, _delivery.Sent.Count);
    }

    [Fact]
    public async Task A_group_that_changes_is_told_again_after_group_interval_not_before()
    {
        var dispatcher = NewDispatcher();
        var first = Firing("call_drop_rate_high", "twilio", labels: ("leg", "a"));
        _clock.Advance(TimeSpan.FromSeconds(30));
        await RoundAsync(dispatcher, first);

        var second = Firing("call_drop_rate_high", "twilio", labels: ("leg", "b"));
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, await RoundAsync(dispatcher, first, second));
        _clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(1, await RoundAsync(dispatcher, first, second));
        Assert.Equal(2, _delivery.Sent[^1].Notification.Alerts.Count);

        // Every alert of the group acknowledged: news for PagerDuty (it acknowledges its incident), not for the others.
        var pager = await AddChannelAsync("pager", ChannelTypes.PagerDuty);
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(1, await RoundAsync(dispatcher, first, second)); // the new channel hears of the group first
        _clock.Advance(TimeSpan.FromMinutes(5));
        var ack = new Acknowledgement("ops", _clock.Now, "on it");
        Assert.Equal(1, await RoundAsync(dispatcher, first with { Acknowledgement = ack }, second with { Acknowledgement = ack }));
        Assert.Equal(pager.Id, _delivery.Sent[^1].Channel.Id);
        Assert.All(_delivery.Sent[^1].Notification.Alerts, a => Assert.Equal("ops", a.Acknowledgement?.By));
    }

    [Fact]
    public async Task A_failing_channel_does_not_hold_up_another_and_is_tried_again_at_the_next_group_interval()
    {
        var pager = await AddChannelAsync("pager");
        _delivery.Outcomes["pager"] = DeliveryOutcome.Failed;
        var dispatcher = NewDispatcher();
        var alert = Firing("webhook_failures_high", "telnyx", "critical");

        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, await RoundAsync(dispatcher, alert));
        _clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(0, await RoundAsync(dispatcher, alert));

        _delivery.Outcomes["pager"] = DeliveryOutcome.Delivered;
        _clock.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(1, await RoundAsync(dispatcher, alert));
        Assert.Equal(["pager", "pager", "slack"], _delivery.Sent.Select(s => s.Channel.Name).Order());
        Assert.Equal(pager.Id, _delivery.Sent[^1].Channel.Id);
    }

    [Fact]
    public async Task A_channel_that_does_not_want_resolutions_is_not_told_them()
    {
        await _channels.UpdateAsync(_slack with { SendResolved = false }, CancellationToken.None);
        var dispatcher = NewDispatcher();
        var alert = Firing("call_drop_rate_high", "twilio");
        _clock.Advance(TimeSpan.FromSeconds(30));
        await RoundAsync(dispatcher, alert);

        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(0, await RoundAsync(dispatcher, Resolve(alert)));

        // And the group is forgotten: the next breach is news again.
        var again = Firing("call_drop_rate_high", "twilio");
        _clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(1, await RoundAsync(dispatcher, again));
        Assert.Equal(2, _delivery.Sent.Count);
    }

    private NotificationDispatcher NewDispatcher() => new(
        new Router(Options.Create(new NotificationOptions())),
        _channels,
        _silences,
        new NotificationLog(_dataSource),
        _delivery,
        Options.Create(new AlertingOptions { SecretKey = Convert.ToBase64String(new byte[32]) }),
        _clock,
        NullLogger<NotificationDispatcher>.Instance);

    private static async Task<int> RoundAsync(NotificationDispatcher dispatcher, params AlertSnapshot[] alerts)
    {
        var started = await dispatcher.DispatchAsync(alerts, CancellationToken.None);
        await dispatcher.Idle;
        return started;
    }

    private async Task<ChannelConfig> AddChannelAsync(string name, string type = ChannelTypes.Webhook)
    {
        var config = new ChannelConfig(Guid.CreateVersion7(), name, type, new Dictionary<string, string>(),
            new Dictionary<string, string> { ["url"] = "http://127.0.0.1:9/" + name }, 60);
        await _channels.CreateAsync(config, "test", CancellationToken.None);
        _channels.Invalidate();
        return config;
    }

    private AlertSnapshot Firing(string rule, string provider, string severity = "high", params (string, string)[] labels)
    {
        var set = LabelSet.Of(("alertname", rule), ("provider", provider), ("severity", severity)).Merge(LabelSet.Of(labels));
        return new AlertSnapshot(Guid.CreateVersion7().ToString("D"), set.Fingerprint, rule, set,
            new Dictionary<string, string> { ["summary"] = rule }, AlertState.Firing, 0.5, _clock.Now, _clock.Now, _clock.Now, null, null, null);
    }

    private AlertSnapshot Resolve(AlertSnapshot alert) => alert with { State = AlertState.Resolved, ResolvedAt = _clock.Now };

    private static LabelMatcher Matcher(string text) => LabelMatcher.TryParse(text, out var matcher, out var error) ? matcher! : throw new ArgumentException(error);

    private sealed class RecordingDelivery : INotificationDelivery
    {
        public ConcurrentDictionary<string, DeliveryOutcome> Outcomes { get; } = new();

        public List<(ChannelConfig Channel, Notification Notification)> Sent { get; } = [];

        public Task<(DeliveryResult Result, int Attempts)> DeliverAsync(ChannelConfig channel, Notification notification, CancellationToken cancellationToken)
        {
            lock (Sent)
            {
                Sent.Add((channel, notification));
            }

            var outcome = Outcomes.GetValueOrDefault(channel.Name, DeliveryOutcome.Delivered);
            return Task.FromResult((new DeliveryResult(outcome, outcome == DeliveryOutcome.Delivered ? 200 : 400, null, outcome == DeliveryOutcome.Delivered ? null : "refused"), 1));
        }
    }
}
