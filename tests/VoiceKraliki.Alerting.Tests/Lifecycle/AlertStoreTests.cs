using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using VoiceKraliki.Alerting.Lifecycle;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Rules;
using VoiceKraliki.Alerting.Tests.Support;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;

namespace VoiceKraliki.Alerting.Tests.Lifecycle;

/// <summary>Alerts in a real Postgres: transitions with their history and events, and operators' acknowledgements and resolutions.</summary>
[Collection(AlertingInfrastructureCollection.Name)]
public sealed class AlertStoreTests(AlertingInfrastructure infrastructure) : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private readonly ManualClock _clock = new(Start);
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;
    private AlertStore _store = null!;
    private IHost _host = null!;

    public async Task InitializeAsync()
    {
        _database = await infrastructure.CreateDatabaseAsync();
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        using (var runner = new MigrationRunner(_dataSource, new MigrationSource(typeof(AlertStore).Assembly, [OutboxSchema.Migration("0004_outbox")]), NullLogger<MigrationRunner>.Instance, TimeProvider.System))
        {
            await runner.ApplyAsync(CancellationToken.None);
        }

        // The service's own outbox registration, for its writer; the host is never started (no relay, no bus).
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<TimeProvider>(_clock);
        builder.AddOutbox(types => types.Add<AlertFired>().Add<AlertResolved>());
        _host = builder.Build();
        _store = new AlertStore(_dataSource, _host.Services.GetRequiredService<OutboxWriter>(), _clock);
    }

    public async Task DisposeAsync()
    {
        _host.Dispose();
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task An_alert_goes_pending_then_firing_then_resolved_with_its_history_and_one_event_each()
    {
        var pending = Alert(AlertState.Pending);
        await _store.ApplyAsync([new(TransitionKind.Pending, pending)], CancellationToken.None);
        _clock.Advance(TimeSpan.FromMinutes(2));
        var firing = pending with { State = AlertState.Firing, FiredAt = _clock.Now, LastBreachAt = _clock.Now, Value = 0.2 };
        await _store.ApplyAsync([new(TransitionKind.Fired, firing)], CancellationToken.None);
        Assert.Equal(firing.Id, Assert.Single((await _store.ActiveAsync(CancellationToken.None)).Values).Id);

        _clock.Advance(TimeSpan.FromMinutes(5));
        var resolved = firing with { State = AlertState.Resolved, ResolvedAt = _clock.Now };
        await _store.ApplyAsync([new(TransitionKind.Resolved, resolved)], CancellationToken.None);

        Assert.Empty(await _store.ActiveAsync(CancellationToken.None));
        var detail = (await _store.GetAsync(Guid.Parse(firing.Id), CancellationToken.None))!;
        Assert.Equal(AlertState.Resolved, detail.Alert.State);
        Assert.Null(detail.Alert.ResolvedBy);
        Assert.Equal(["pending", "fired", "resolved"], detail.History.Select(h => h.Kind));
        Assert.Equal(["AlertFired", "AlertResolved"], await OutboxTypesAsync());
        var fired = JsonDocument.Parse(await _database.ScalarAsync<string>("SELECT payload::text FROM outbox_messages WHERE type = 'AlertFired'")).RootElement;
        Assert.Equal(firing.Id, fired.GetProperty("alertId").GetString());
        Assert.Equal("high", fired.GetProperty("severity").GetString());
        Assert.Equal("twilio", fired.GetProperty("labels").GetProperty("provider").GetString());
    }

    [Fact]
    public async Task A_pending_alert_that_clears_leaves_nothing_behind()
    {
        var pending = Alert(AlertState.Pending);
        await _store.ApplyAsync([new(TransitionKind.Pending, pending)], CancellationToken.None);
        await _store.ApplyAsync([new(TransitionKind.Dropped, pending with { State = AlertState.Resolved, ResolvedAt = _clock.Now })], CancellationToken.None);

        Assert.Null(await _store.GetAsync(Guid.Parse(pending.Id), CancellationToken.None));
        Assert.Empty(await OutboxTypesAsync());
    }

    [Fact]
    public async Task Acknowledging_records_who_when_and_why_and_a_resolved_alert_cannot_be_acknowledged()
    {
        var firing = Alert(AlertState.Firing);
        await _store.ApplyAsync([new(TransitionKind.Fired, firing)], CancellationToken.None);
        _clock.Advance(TimeSpan.FromSeconds(40));

        var acked = await _store.AcknowledgeAsync(Guid.Parse(firing.Id), "alice", "looking at twilio", CancellationToken.None);
        Assert.Equal(new Acknowledgement("alice", _clock.Now, "looking at twilio"), acked!.Acknowledgement);
        Assert.Equal(AlertState.Firing, acked.State);

        // The engine's next update keeps the acknowledgement.
        await _store.ApplyAsync([new(TransitionKind.Updated, firing with { Value = 0.9, LastBreachAt = _clock.Now })], CancellationToken.None);
        Assert.Equal("alice", (await _store.ActiveAsync(CancellationToken.None))[firing.Fingerprint].Acknowledgement?.By);

        var resolved = await _store.ResolveAsync(Guid.Parse(firing.Id), "bob", "fixed the trunk", CancellationToken.None);
        Assert.Equal(("bob", AlertState.Resolved), (resolved!.ResolvedBy, resolved.State));
        Assert.Null(await _store.AcknowledgeAsync(Guid.Parse(firing.Id), "carol", null, CancellationToken.None));
        Assert.Null(await _store.ResolveAsync(Guid.Parse(firing.Id), "carol", null, CancellationToken.None));

        var history = (await _store.GetAsync(Guid.Parse(firing.Id), CancellationToken.None))!.History;
        Assert.Equal(["fired:", "acknowledged:alice:looking at twilio", "resolved:bob:fixed the trunk"], history.Select(h => $"{h.Kind}:{h.Actor}{(h.Note is null ? "" : ":" + h.Note)}"));
        var resolvedEvent = JsonDocument.Parse(await _database.ScalarAsync<string>("SELECT payload::text FROM outbox_messages WHERE type = 'AlertResolved'")).RootElement;
        Assert.Equal("bob", resolvedEvent.GetProperty("resolvedBy").GetString());
    }

    [Fact]
    public async Task The_engine_does_not_bring_back_an_alert_resolved_by_hand_meanwhile()
    {
        var firing = Alert(AlertState.Firing);
        await _store.ApplyAsync([new(TransitionKind.Fired, firing)], CancellationToken.None);
        await _store.ResolveAsync(Guid.Parse(firing.Id), "bob", null, CancellationToken.None);

        var applied = await _store.ApplyAsync([new(TransitionKind.Updated, firing with { Value = 0.7 }), new(TransitionKind.Fired, firing)], CancellationToken.None);

        Assert.Empty(applied);
        Assert.Equal(AlertState.Resolved, (await _store.GetAsync(Guid.Parse(firing.Id), CancellationToken.None))!.Alert.State);
        Assert.Equal(["AlertFired", "AlertResolved"], await OutboxTypesAsync());
    }

    [Fact]
    public async Task Alerts_are_listed_newest_first_and_filtered_by_state_severity_labels_and_acknowledgement()
    {
        var a = Alert(AlertState.Firing, provider: "twilio", severity: "high");
        var b = Alert(AlertState.Firing, provider: "telnyx", severity: "critical");
        var c = Alert(AlertState.Pending, provider: "twilio", severity: "high", rule: "other");
        await _store.ApplyAsync([new(TransitionKind.Fired, a), new(TransitionKind.Fired, b), new(TransitionKind.Pending, c)], CancellationToken.None);
        await _store.AcknowledgeAsync(Guid.Parse(b.Id), "alice", null, CancellationToken.None);

        async Task<string[]> Ids(AlertFilter filter) => [.. (await _store.ListAsync(filter, CancellationToken.None)).Select(x => x.Id)];
        var all = new AlertFilter(null, null, LabelSet.Empty, null, 100, null);
        Assert.Equal([c.Id, b.Id, a.Id], await Ids(all));
        Assert.Equal([b.Id, a.Id], await Ids(all with { State = AlertState.Firing }));
        Assert.Equal([b.Id], await Ids(all with { Severity = "critical" }));
        Assert.Equal([c.Id, a.Id], await Ids(all with { Labels = LabelSet.Of(("provider", "twilio")) }));
        Assert.Equal([b.Id], await Ids(all with { Acknowledged = true }));
        Assert.Equal([a.Id], await Ids(all with { Before = Guid.Parse(b.Id) }));
        Assert.Equal([c.Id], await Ids(all with { Limit = 1 }));
    }

    private AlertSnapshot Alert(AlertState state, string provider = "twilio", string severity = "high", string rule = "call_drop_rate_high")
    {
        var labels = LabelSet.Of(("alertname", rule), ("provider", provider), ("severity", severity));
        // Ids sort by creation time (version 7); the clock moves on so that alerts made one after another sort so.
        var id = Guid.CreateVersion7(_clock.Now);
        _clock.Advance(TimeSpan.FromMilliseconds(5));
        return new AlertSnapshot(id.ToString("D"), labels.Fingerprint, rule, labels,
            new Dictionary<string, string> { ["summary"] = "drops" }, state, 0.1, _clock.Now,
            state == AlertState.Firing ? _clock.Now : null, _clock.Now, null, null, null);
    }

    private async Task<string[]> OutboxTypesAsync()
    {
        await using var select = _dataSource.CreateCommand("SELECT type FROM outbox_messages ORDER BY type");
        var types = new List<string>();
        await using var reader = await select.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            types.Add(reader.GetString(0));
        }

        return [.. types];
    }
}
