using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Signals;
using VoiceKraliki.Alerting.Tests.Support;
using VoiceKraliki.ServiceDefaults.Data;
using static VoiceKraliki.Alerting.Tests.Signals.SignalEvents;

namespace VoiceKraliki.Alerting.Tests.Signals;

/// <summary>The per-minute history and the kept compliance events, on the real Postgres, with one test database each.</summary>
[Collection(AlertingInfrastructureCollection.Name)]
public sealed class SignalHistoryTests(AlertingInfrastructure infrastructure) : IAsyncLifetime
{
    private static readonly LabelSet Twilio = LabelSet.Of(("provider", "twilio"));
    private static readonly LabelSet Telnyx = LabelSet.Of(("provider", "telnyx"));

    private readonly List<IAsyncDisposable> _disposables = [];
    private TestDatabase _database = null!;

    public async Task InitializeAsync()
    {
        _database = await infrastructure.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        using var runner = new MigrationRunner(dataSource, new MigrationSource(typeof(SignalStore).Assembly), NullLogger<MigrationRunner>.Instance, TimeProvider.System);
        await runner.ApplyAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        foreach (var disposable in _disposables)
        {
            await disposable.DisposeAsync();
        }

        await _database.DisposeAsync();
    }

    /// <summary>One alerting replica: its own clock, store and connection pool, over the test's database.</summary>
    private Replica NewReplica(DateTimeOffset? start = null, Action<SignalOptions>? configure = null)
    {
        var replica = new Replica(_database.ConnectionString, start ?? Start, configure);
        _disposables.Add(replica);
        return replica;
    }

    /// <summary>Samples every second of [<paramref name="from"/>, <paramref name="to"/>), as the alerting engine does.</summary>
    private static void SampleEverySecond(Replica replica, DateTimeOffset from, DateTimeOffset to, Action<DateTimeOffset>? before = null)
    {
        for (var at = from; at < to; at = at.AddSeconds(1))
        {
            replica.Clock.Set(at);
            before?.Invoke(at);
            replica.Store.Sample(at);
        }
    }

    [Fact]
    public async Task Each_minute_of_each_series_is_written_with_its_count_min_max_mean_and_last_value()
    {
        var replica = NewReplica();
        replica.Store.Record(Health(Start, "healthy"));
        SampleEverySecond(replica, Start, Start.AddMinutes(2), at =>
        {
            if (at == Start.AddSeconds(30))
            {
                replica.Store.Record(Health(at, "degraded"));
            }
        });

        replica.Clock.Set(Start.AddMinutes(2).AddSeconds(5));
        Assert.Equal(2, await replica.Writer.WriteAsync(replica.Clock.Now, CancellationToken.None));

        var points = await replica.History.HistoryAsync(SignalNames.ProviderHealth, Start, Start.AddHours(1), null, CancellationToken.None);
        Assert.Equal(2, points.Count);
        var first = points[0];
        Assert.Equal((SignalNames.ProviderHealth, Twilio, Start), (first.Signal, first.Labels, first.Bucket));
        Assert.Equal((60, 0.5, 1.0, 0.75, 0.5), (first.Count, first.Min, first.Max, first.Avg, first.Last));
        Assert.Equal(Twilio.Fingerprint, first.Fingerprint);
        Assert.Equal((Start.AddMinutes(1), 60, 0.5, 0.5), (points[1].Bucket, points[1].Count, points[1].Min, points[1].Max));

        // The range is [from, to): the second minute only.
        Assert.Single(await replica.History.HistoryAsync(SignalNames.ProviderHealth, Start.AddMinutes(1), Start.AddMinutes(2), null, CancellationToken.None));
        Assert.Empty(await replica.History.HistoryAsync(SignalNames.CallDropRate, Start, Start.AddHours(1), null, CancellationToken.None));
    }

    [Fact]
    public async Task History_is_filtered_by_labels_and_ordered_by_minute_then_series()
    {
        var replica = NewReplica(configure: o => o.MinEvents[SignalNames.WebhookFailureRate] = 1);
        SampleEverySecond(replica, Start, Start.AddMinutes(2), at =>
        {
            replica.Store.Record(Rejected(at));
            replica.Store.Record(Accepted(at, Contracts.TelephonyProvider.Telnyx));
        });
        replica.Clock.Set(Start.AddMinutes(2).AddSeconds(5));
        await replica.Writer.WriteAsync(replica.Clock.Now, CancellationToken.None);

        var all = await replica.History.HistoryAsync(SignalNames.WebhookFailureRate, Start, Start.AddHours(1), null, CancellationToken.None);
        Assert.Equal(
            new[] { (Start, Telnyx.Fingerprint), (Start, Twilio.Fingerprint), (Start.AddMinutes(1), Telnyx.Fingerprint), (Start.AddMinutes(1), Twilio.Fingerprint) }
                .OrderBy(p => p.Item1).ThenBy(p => p.Item2, StringComparer.Ordinal),
            all.Select(p => (p.Bucket, p.Fingerprint)));

        var twilio = await replica.History.HistoryAsync(SignalNames.WebhookFailureRate, Start, Start.AddHours(1), Twilio, CancellationToken.None);
        Assert.Equal(2, twilio.Count);
        Assert.All(twilio, p => Assert.Equal((Twilio, 1.0), (p.Labels, p.Max)));
        Assert.All(
            await replica.History.HistoryAsync(SignalNames.WebhookFailureRate, Start, Start.AddHours(1), Telnyx, CancellationToken.None),
            p => Assert.Equal((Telnyx, 0.0), (p.Labels, p.Max)));
    }

    [Fact]
    public async Task Replicas_writing_the_same_minute_count_it_once_and_the_one_that_saw_more_of_it_wins()
    {
        // Replica A sampled the whole minute; B started half way through and saw the provider degraded only.
        var a = NewReplica();
        var b = NewReplica();
        a.Store.Record(Health(Start, "healthy"));
        SampleEverySecond(a, Start, Start.AddSeconds(30));
        var degraded = Health(Start.AddSeconds(30), "degraded");
        a.Store.Record(degraded);
        b.Store.Record(degraded);
        SampleEverySecond(a, Start.AddSeconds(30), Start.AddMinutes(1));
        SampleEverySecond(b, Start.AddSeconds(30), Start.AddMinutes(1));
        var after = Start.AddMinutes(1).AddSeconds(5);

        Assert.Equal(1, await b.Writer.WriteAsync(after, CancellationToken.None));
        Assert.Equal(1, await a.Writer.WriteAsync(after, CancellationToken.None));
        // B again (a retry, or B's next run after a restart): fewer samples, nothing changes.
        Assert.Equal(0, await b.History.WriteAsync(SignalHistory.Aggregate(b.Store.Rings(), Start, Start.AddMinutes(1)), "b", CancellationToken.None));
        // A again: as many samples, nothing changes either.
        Assert.Equal(0, await a.History.WriteAsync(SignalHistory.Aggregate(a.Store.Rings(), Start, Start.AddMinutes(1)), "a", CancellationToken.None));

        var point = Assert.Single(await a.History.HistoryAsync(SignalNames.ProviderHealth, Start, after, Twilio, CancellationToken.None));
        Assert.Equal((60, 0.5, 1.0, 0.75, 0.5), (point.Count, point.Min, point.Max, point.Avg, point.Last));
        Assert.Equal(1L, await _database.ScalarAsync<long>("SELECT count(*) FROM signal_history"));
        Assert.Equal(SignalHistoryWriter.Instance, await _database.ScalarAsync<string>("SELECT written_by FROM signal_history"));
    }

    [Fact]
    public async Task Minutes_that_could_not_be_written_are_written_by_the_next_run()
    {
        var replica = NewReplica();
        replica.Store.Record(Health(Start, "healthy"));
        SampleEverySecond(replica, Start, Start.AddMinutes(1));

        await _database.ExecuteAsync("ALTER TABLE signal_history RENAME TO signal_history_away");
        await Assert.ThrowsAsync<PostgresException>(() => replica.Writer.WriteAsync(Start.AddMinutes(1).AddSeconds(5), CancellationToken.None));
        await _database.ExecuteAsync("ALTER TABLE signal_history_away RENAME TO signal_history");

        SampleEverySecond(replica, Start.AddMinutes(1), Start.AddMinutes(3));
        Assert.Equal(3, await replica.Writer.WriteAsync(Start.AddMinutes(3).AddSeconds(5), CancellationToken.None));
        // Written minutes are not written again; the minute under way is not written yet.
        Assert.Equal(0, await replica.Writer.WriteAsync(Start.AddMinutes(3).AddSeconds(50), CancellationToken.None));

        var points = await replica.History.HistoryAsync(SignalNames.ProviderHealth, Start, Start.AddHours(1), null, CancellationToken.None);
        Assert.Equal([Start, Start.AddMinutes(1), Start.AddMinutes(2)], points.Select(p => p.Bucket));
        Assert.All(points, p => Assert.Equal(60, p.Count));
    }

    [Fact]
    public async Task Pruning_deletes_history_past_retention_and_compliance_events_past_their_window_but_keeps_each_latest_health()
    {
        var replica = NewReplica(configure: o => o.HistoryRetention = TimeSpan.FromMinutes(71));
        replica.Store.Record(Health(Start, "healthy"));
        SampleEverySecond(replica, Start, Start.AddMinutes(2));
        await replica.Writer.WriteAsync(Start.AddMinutes(2).AddSeconds(5), CancellationToken.None);

        replica.Clock.Set(Start);
        var oldHealth = replica.Store.ToDurable(Health(Start, "healthy"))!;
        var newHealth = replica.Store.ToDurable(Health(Start.AddMinutes(1), "down"))!;
        var telnyxHealth = replica.Store.ToDurable(Health(Start, "healthy", Contracts.TelephonyProvider.Telnyx))!;
        var violation = replica.Store.ToDurable(Violation(Start));
        foreach (var e in new[] { oldHealth, newHealth, telnyxHealth, violation })
        {
            await replica.Events.SaveAsync(e, CancellationToken.None);
        }

        await _database.ExecuteAsync("UPDATE signal_events SET received_at = @at", new NpgsqlParameter("at", Start.AddDays(-2)));

        // 71.5 minutes on, the first minute is past the 71 kept, the second is not.
        await replica.Writer.PruneAsync(Start.AddMinutes(71).AddSeconds(30), CancellationToken.None);
        var points = await replica.History.HistoryAsync(SignalNames.ProviderHealth, Start, Start.AddHours(2), null, CancellationToken.None);
        Assert.Equal([Start.AddMinutes(1)], points.Select(p => p.Bucket));
        // The violation's 10 min window plus the hour of slack are over; the replaced twilio state goes, the latest stay.
        var (kept, _) = await replica.Events.LoadAsync(Start.AddYears(-1), null, CancellationToken.None);
        Assert.Equal(new[] { newHealth.EventId, telnyxHealth.EventId }.Order(), kept.Select(e => e.EventId).Order());
        Assert.Equal(2L, await _database.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
    }

    [Fact]
    public async Task A_kept_event_is_stored_once_and_keeps_the_time_it_was_first_counted_at()
    {
        var replica = NewReplica();
        var atRisk = AtRisk(Start.AddHours(-3));
        var first = replica.Store.ToDurable(atRisk);
        Assert.Equal(Start, first.CountedAt);

        Assert.Equal(first, await replica.Events.SaveAsync(first, CancellationToken.None));
        replica.Clock.Advance(TimeSpan.FromMinutes(5));
        var redelivered = replica.Store.ToDurable(atRisk);
        Assert.NotEqual(first.CountedAt, redelivered.CountedAt);
        Assert.Equal(first, await replica.Events.SaveAsync(redelivered, CancellationToken.None));
        Assert.Equal(1L, await _database.ScalarAsync<long>("SELECT count(*) FROM signal_events"));
    }

    [Fact]
    public async Task Another_replica_and_a_restarted_one_load_the_kept_events_and_only_then_have_compliance_counts()
    {
        var taker = NewReplica();
        var other = NewReplica(configure: o => o.DurableRefreshInterval = TimeSpan.FromSeconds(1));
        Assert.Empty(other.Store.Current(SignalNames.ComplianceRequestsAtRisk, Start));

        await other.Refresher.RefreshAsync(CancellationToken.None);
        Assert.Equal(0, other.Store.Current(SignalNames.ComplianceRequestsAtRisk, Start).Single().Value);

        // The replica that took the events from the queue keeps them.
        foreach (var e in new[]
                 {
                     taker.Store.ToDurable(AtRisk(Start)), taker.Store.ToDurable(AtRisk(Start)),
                     taker.Store.ToDurable(Violation(Start)), taker.Store.ToDurable(Health(Start, "degraded"))!,
                 })
        {
            taker.Store.Record(await taker.Events.SaveAsync(e, CancellationToken.None));
        }

        await other.Refresher.RefreshAsync(CancellationToken.None);
        await other.Refresher.RefreshAsync(CancellationToken.None);
        Assert.Equal(2, other.Store.Current(SignalNames.ComplianceRequestsAtRisk, Start).Single().Value);
        Assert.Equal(1, other.Store.Current(SignalNames.ComplianceViolations, Start).Single().Value);
        Assert.Equal(0.5, other.Store.Current(SignalNames.ProviderHealth, Start).Single().Value);

        // A replica started a day later still sees the requests at risk of the last 24 h, but not the violation of 10 min.
        var restarted = NewReplica(Start.AddHours(23));
        await restarted.Refresher.RefreshAsync(CancellationToken.None);
        Assert.Equal(2, restarted.Store.Current(SignalNames.ComplianceRequestsAtRisk, Start.AddHours(23)).Single().Value);
        Assert.Equal(0, restarted.Store.Current(SignalNames.ComplianceViolations, Start.AddHours(23)).Single().Value);
        Assert.Equal(0.5, restarted.Store.Current(SignalNames.ProviderHealth, Start.AddHours(23)).Single().Value);
    }

    private sealed class Replica : IAsyncDisposable
    {
        private readonly NpgsqlDataSource _dataSource;

        public Replica(string connectionString, DateTimeOffset start, Action<SignalOptions>? configure)
        {
            var settings = new SignalOptions();
            configure?.Invoke(settings);
            var options = Options.Create(settings);
            _dataSource = NpgsqlDataSource.Create(connectionString);
            Clock = new ManualClock(start);
            Store = new SignalStore(options, Clock);
            History = new SignalHistory(_dataSource);
            Events = new SignalEventLog(_dataSource);
            var migrations = new MigrationRunner(_dataSource, new MigrationSource(typeof(SignalStore).Assembly), NullLogger<MigrationRunner>.Instance, Clock);
            Writer = new SignalHistoryWriter(Store, History, Events, migrations, options, Clock, NullLogger<SignalHistoryWriter>.Instance);
            Refresher = new SignalEventsRefresher(Store, Events, migrations, options, Clock, NullLogger<SignalEventsRefresher>.Instance);
        }

        public ManualClock Clock { get; }

        public SignalStore Store { get; }

        public SignalHistory History { get; }

        public SignalEventLog Events { get; }

        public SignalHistoryWriter Writer { get; }

        public SignalEventsRefresher Refresher { get; }

        public async ValueTask DisposeAsync()
        {
            Writer.Dispose();
            Refresher.Dispose();
            await _dataSource.DisposeAsync();
        }
    }
}
