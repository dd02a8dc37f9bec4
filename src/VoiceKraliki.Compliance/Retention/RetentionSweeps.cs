using VoiceKraliki.Compliance.Extensions;
using System.Data;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.Compliance.Audit;
using VoiceKraliki.Compliance.Regions;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;

namespace VoiceKraliki.Compliance.Retention;

/// <summary>A sweep and how far the holders have got with what it found.</summary>
/// <param name="Status">
/// <c>requested</c> (waiting for the sweeping instance), <c>running</c>, <c>published</c> (every item found has had
/// its event published; some holders have not confirmed yet), <c>completed</c> (every holder confirmed every item), or
/// <c>failed</c> (<paramref name="Error"/> says why; what it published before stays published).
/// </param>
public sealed record SweepView(
    Guid Id,
    string Trigger,
    string RequestedBy,
    DateTimeOffset RequestedAt,
    string Status,
    DateTimeOffset? AsOf,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int Found,
    int Expiring,
    int Enforced,
    string? Error,
    IReadOnlyList<SweepGroup> Groups);

/// <summary>What a sweep found of one category in one region, and what the holders have done with it.</summary>
public sealed record SweepGroup(string Category, string Region, string Action, int Found, int Enforced, int ItemsAffected);

/// <summary>What a sweep would find at <paramref name="AsOf"/>, without changing anything.</summary>
/// <param name="Due">Items past their policy and not yet handled.</param>
/// <param name="Expiring">Items whose event is out, waiting for a holder's confirmation.</param>
/// <param name="Unswept">Categories with a policy but no holder configured (nothing of them is stored).</param>
public sealed record RetentionReport(
    DateTimeOffset AsOf,
    int Due,
    IReadOnlyList<ReportGroup> Groups,
    IReadOnlyList<ReportItem> Items,
    bool Truncated,
    int Expiring,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Holders,
    IReadOnlyList<string> Unswept);

public sealed record ReportGroup(string Category, string Region, string Action, int Count, DateTimeOffset OldestDueAt);

/// <summary>One due item: the call, what of it, the governing region and rule, since when it is due.</summary>
public sealed record ReportItem(string ProviderCallId, string Category, string Region, string Action, DateTimeOffset DueAt, int ProviderRecordings);

/// <summary>
/// Retention sweeps in Postgres. A sweep takes the items held past their policy in batches (<c>FOR UPDATE SKIP
/// LOCKED</c>), and for each, in one transaction, marks it expiring and puts a <see cref="RetentionExpired"/> in the
/// outbox for its holders. A call's rule is its parties' strictest (<see cref="RetentionOptions.Governing"/>), with
/// a party whose region is unknown counted as OTHER. Each holder's <see cref="RetentionEnforced"/> is recorded and
/// audited (<c>retention.deleted</c> or <c>retention.anonymized</c>); when all holders have answered the item is
/// enforced. A sweep is audited once (<c>retention.swept</c>) with what it found.
/// </summary>
public sealed partial class RetentionSweeps(
    NpgsqlDataSource dataSource,
    IOptions<RetentionOptions> policies,
    IOptions<RetentionSweepOptions> options,
    AuditLog audit,
    OutboxWriter outbox,
    TimeProvider time,
    ILogger<RetentionSweeps> logger)
{
    public const string ScheduleTrigger = "schedule";
    public const string RequestTrigger = "request";

    /// <summary>The <see cref="ComplianceViolationDetected.Type"/> of data a holder has not confirmed deleting in time.</summary>
    public const string RetentionOverdue = "retention_overdue";

    /// <summary>Actor of scheduled sweeps and of the entries they audit.</summary>
    public const string Actor = "compliance-retention";

    // $1 regions, $2 categories, $3 days (the policy table), $4 the earliest basis that can be due, $5 as of.
    private const string DueSql = """
        WITH p(region, category, days) AS (SELECT * FROM unnest($1::text[], $2::text[], $3::int[]))
        SELECT i.provider_call_id, i.category, COALESCE(c.from_region, 'OTHER'), COALESCE(c.to_region, 'OTHER'),
               COALESCE(c.ended_at, c.last_event_at) AS basis, cardinality(c.provider_recordings)
        FROM retention_items i
        JOIN retention_calls c ON c.provider_call_id = i.provider_call_id
        JOIN p pf ON pf.category = i.category AND pf.region = COALESCE(c.from_region, 'OTHER')
        JOIN p pt ON pt.category = i.category AND pt.region = COALESCE(c.to_region, 'OTHER')
        WHERE i.state = 'held'
          AND COALESCE(c.ended_at, c.last_event_at) <= $4
          AND COALESCE(c.ended_at, c.last_event_at) + make_interval(days => LEAST(pf.days, pt.days)) <= $5
        ORDER BY basis, i.provider_call_id, i.category
        """;

    private const string MarkSql = """
        UPDATE retention_items AS i
        SET state = 'expiring', region = m.region, action = m.action, due_at = m.due_at, sweep_id = $1, event_id = m.event_id,
            attempts = i.attempts + 1, published_at = $2, holders = string_to_array(m.holders, ','), confirmed = '{}'::jsonb
        FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::uuid[], $9::text[])
            AS m(call_id, category, region, action, due_at, event_id, holders)
        WHERE i.provider_call_id = m.call_id AND i.category = m.category
        """;

    private readonly string _instance = $"{Environment.MachineName}/{Environment.ProcessId}";

    /// <summary>Records a sweep requested through the API; the sweeping instance runs it.</summary>
    public async Task<SweepView> RequestAsync(string actor, CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        await using var insert = dataSource.CreateCommand(
            "INSERT INTO retention_sweeps (id, trigger, requested_by, requested_at, status) VALUES ($1, $2, $3, $4, 'requested')");
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = RequestTrigger });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = actor });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = PostgresTime.Microseconds(time.GetUtcNow()) });
        await insert.ExecuteNonQueryAsync(cancellationToken);
        return (await GetAsync(id, cancellationToken))!;
    }

    /// <summary>The sweeps waiting to run, oldest first; also those a sweeper that is gone left running.</summary>
    internal async Task<IReadOnlyList<Guid>> PendingAsync(CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand(
            "SELECT id FROM retention_sweeps WHERE status IN ('requested', 'running') ORDER BY requested_at, id");
        var ids = new List<Guid>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    /// <summary>When the last scheduled sweep was started, if any.</summary>
    internal async Task<DateTimeOffset?> LastScheduledAsync(CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand("SELECT max(requested_at) FROM retention_sweeps WHERE trigger = 'schedule'");
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0) ? reader.GetFieldValue<DateTimeOffset>(0) : null;
    }

    /// <summary>Creates and runs a scheduled sweep as of now.</summary>
    internal async Task<SweepView> RunScheduledAsync(CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        await using (var insert = dataSource.CreateCommand(
            "INSERT INTO retention_sweeps (id, trigger, requested_by, requested_at, status) VALUES ($1, $2, $3, $4, 'requested')"))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ScheduleTrigger });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Actor });
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = PostgresTime.Microseconds(time.GetUtcNow()) });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return await RunAsync(id, cancellationToken);
    }

    /// <summary>
    /// Runs sweep <paramref name="id"/> as of now: publishes every due item, then audits the sweep. Only the elected
    /// instance calls this; were two to run at once, <c>SKIP LOCKED</c> and the item's state keep each item to one.
    /// </summary>
    internal async Task<SweepView> RunAsync(Guid id, CancellationToken cancellationToken)
    {
        var asOf = PostgresTime.Microseconds(time.GetUtcNow());
        await using (var start = dataSource.CreateCommand(
            "UPDATE retention_sweeps SET status = 'running', as_of = $2, instance = $3, started_at = $2, found = 0, error = NULL WHERE id = $1"))
        {
            start.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            start.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = asOf });
            start.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _instance });
            await start.ExecuteNonQueryAsync(cancellationToken);
        }

        var found = new Dictionary<(string Category, string Region, string Action), int>();
        try
        {
            // A sweep that ran before on another instance may have published some items already: they count too.
            await using (var earlier = dataSource.CreateCommand("SELECT category, region, action, count(*)::int FROM retention_items WHERE sweep_id = $1 GROUP BY 1, 2, 3"))
            {
                earlier.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
                await using var reader = await earlier.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    found[(reader.GetString(0), reader.GetString(1), reader.GetString(2))] = reader.GetInt32(3);
                }
            }

            while (await PublishBatchAsync(id, asOf, found, cancellationToken) > 0)
            {
            }

            var total = found.Values.Sum();
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
            await using (var finish = new NpgsqlCommand(
                "UPDATE retention_sweeps SET status = 'published', finished_at = $2, found = $3 WHERE id = $1 RETURNING requested_by", connection, transaction))
            {
                finish.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
                finish.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = PostgresTime.Microseconds(time.GetUtcNow()) });
                finish.Parameters.Add(new NpgsqlParameter<int> { TypedValue = total });
                var actor = (string?)await finish.ExecuteScalarAsync(cancellationToken) ?? Actor;
                await audit.AppendAsync(connection, transaction, new AuditRecord(AuditKinds.RetentionSwept, actor, null, new Dictionary<string, object?>
                {
                    ["sweep"] = id,
                    ["asOf"] = asOf,
                    ["found"] = total,
                    ["groups"] = found.OrderBy(g => g.Key).Select(g => new { category = g.Key.Category, region = g.Key.Region, action = g.Key.Action, count = g.Value }).ToArray(),
                }), cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            LogSwept(logger, id, total, asOf);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            LogSweepFailed(logger, id, ex.Message);
            await using var fail = dataSource.CreateCommand("UPDATE retention_sweeps SET status = 'failed', finished_at = $2, error = $3 WHERE id = $1");
            fail.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            fail.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = PostgresTime.Microseconds(time.GetUtcNow()) });
            fail.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ex.Message });
            await fail.ExecuteNonQueryAsync(CancellationToken.None);
        }

        return (await GetAsync(id, cancellationToken))!;
    }

    private async Task<int> PublishBatchAsync(
        Guid sweepId, DateTimeOffset asOf, Dictionary<(string, string, string), int> found, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var holders = settings.Holders;
        if (holders.Count == 0)
        {
            return 0;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var due = new List<DueRow>();
        await using (var select = Due(connection, transaction, asOf, holders.Keys, $" LIMIT {settings.BatchSize} FOR UPDATE OF i SKIP LOCKED"))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                due.Add(Read(reader));
            }
        }

        if (due.Count == 0)
        {
            return 0;
        }

        var now = PostgresTime.Microseconds(time.GetUtcNow());
        var marks = due.Select(d =>
        {
            var (region, rule, dueAt) = Govern(d);
            return (Row: d, Region: region.ToString(), Rule: rule, DueAt: dueAt,
                EventId: NameBasedGuid.Create($"compliance/retention-expired/{d.CallId}/{d.Category}/{sweepId:D}"));
        }).ToList();

        await using (var mark = new NpgsqlCommand(MarkSql, connection, transaction))
        {
            mark.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = sweepId });
            mark.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            mark.Parameters.Add(TextArray(marks.Select(m => m.Row.CallId)));
            mark.Parameters.Add(TextArray(marks.Select(m => m.Row.Category)));
            mark.Parameters.Add(TextArray(marks.Select(m => m.Region)));
            mark.Parameters.Add(TextArray(marks.Select(m => m.Rule.Action)));
            mark.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. marks.Select(m => m.DueAt)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
            mark.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. marks.Select(m => m.EventId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid });
            mark.Parameters.Add(TextArray(marks.Select(m => string.Join(',', holders[m.Row.Category]))));
            await mark.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var m in marks)
        {
            await outbox.EnqueueAsync(connection, transaction, new RetentionExpired(
                m.EventId, now, m.Row.CallId, m.Row.Category, m.Region, m.Row.CallId, m.DueAt, m.Rule.Action, sweepId), cancellationToken);
        }

        await using (var count = new NpgsqlCommand("UPDATE retention_sweeps SET found = found + $2 WHERE id = $1", connection, transaction))
        {
            count.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = sweepId });
            count.Parameters.Add(new NpgsqlParameter<int> { TypedValue = marks.Count });
            await count.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        outbox.Notify();
        foreach (var m in marks)
        {
            var key = (m.Row.Category, m.Region, m.Rule.Action);
            found[key] = found.GetValueOrDefault(key) + 1;
        }

        return marks.Count;
    }

    /// <summary>
    /// Publishes again, under a new event id, every item whose holders have not all confirmed within
    /// <see cref="RetentionSweepOptions.ConfirmationTimeout"/> (a holder was down, or its answer was lost).
    /// </summary>
    internal async Task<int> RepublishUnconfirmedAsync(CancellationToken cancellationToken)
    {
        var now = PostgresTime.Microseconds(time.GetUtcNow());
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var stale = new List<(string CallId, string Category, string Region, string Action, DateTimeOffset DueAt, Guid SweepId, int Attempts, string[] Missing)>();
        await using (var select = new NpgsqlCommand("""
            SELECT provider_call_id, category, region, action, due_at, sweep_id, attempts,
                   ARRAY(SELECT h FROM unnest(holders) AS h WHERE NOT confirmed ? h ORDER BY h)
            FROM retention_items
            WHERE state = 'expiring' AND published_at <= $1
            ORDER BY published_at LIMIT $2 FOR UPDATE SKIP LOCKED
            """, connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now - options.Value.ConfirmationTimeout });
            select.Parameters.Add(new NpgsqlParameter<int> { TypedValue = options.Value.BatchSize });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                stale.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.GetFieldValue<DateTimeOffset>(4), reader.GetGuid(5), reader.GetInt32(6), reader.GetFieldValue<string[]>(7)));
            }
        }

        foreach (var s in stale)
        {
            var eventId = NameBasedGuid.Create($"compliance/retention-expired/{s.CallId}/{s.Category}/{s.SweepId:D}/{s.Attempts + 1}");
            await using (var update = new NpgsqlCommand(
                "UPDATE retention_items SET event_id = $3, attempts = attempts + 1, published_at = $4 WHERE provider_call_id = $1 AND category = $2",
                connection, transaction))
            {
                update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.CallId });
                update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = s.Category });
                update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = eventId });
                update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
                await update.ExecuteNonQueryAsync(cancellationToken);
            }

            await outbox.EnqueueAsync(connection, transaction, new RetentionExpired(
                eventId, now, s.CallId, s.Category, s.Region, s.CallId, s.DueAt, s.Action, s.SweepId), cancellationToken);

            // Data kept past its policy because a holder has not confirmed is a violation until it is gone: alerting hears of it.
            await outbox.EnqueueAsync(connection, transaction, new ComplianceViolationDetected(
                NameBasedGuid.Create($"compliance/retention-overdue/{s.CallId}/{s.Category}/{s.SweepId:D}/{s.Attempts + 1}"), now, s.CallId,
                RetentionOverdue, s.Region,
                $"{s.Category} of call {s.CallId} was due for {s.Action} at {s.DueAt:O} and {string.Join(", ", s.Missing)} has not confirmed it after {s.Attempts} attempt(s)"),
                cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (stale.Count > 0)
        {
            outbox.Notify();
            LogRepublished(logger, stale.Count);
        }

        return stale.Count;
    }

    /// <summary>
    /// Records a holder's answer once (a redelivered answer changes nothing) and audits it; the item is enforced when
    /// every holder has answered. An answer for an item this service never published is still audited: the data is gone.
    /// </summary>
    public async Task ConfirmAsync(RetentionEnforced answer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var now = PostgresTime.Microseconds(time.GetUtcNow());
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        await using (var first = new NpgsqlCommand(
            "INSERT INTO retention_confirmations (event_id, received_at) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING", connection, transaction))
        {
            first.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = answer.EventId });
            first.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            if (await first.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return;
            }
        }

        string? region = null;
        Guid? sweep = null;
        await using (var update = new NpgsqlCommand("""
            UPDATE retention_items
            SET confirmed = confirmed || jsonb_build_object($3::text, $4::int),
                state = CASE WHEN holders <@ ARRAY(SELECT jsonb_object_keys(confirmed || jsonb_build_object($3::text, $4::int))) THEN 'enforced' ELSE state END,
                enforced_at = CASE WHEN holders <@ ARRAY(SELECT jsonb_object_keys(confirmed || jsonb_build_object($3::text, $4::int))) THEN $5 ELSE enforced_at END
            WHERE provider_call_id = $1 AND category = $2 AND state <> 'held'
            RETURNING region, sweep_id
            """, connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = answer.ResourceId });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = answer.DataCategory });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = answer.Service });
            update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = answer.ItemsAffected });
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            await using var reader = await update.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                region = reader.IsDBNull(0) ? null : reader.GetString(0);
                sweep = reader.IsDBNull(1) ? null : reader.GetGuid(1);
            }
        }

        if (sweep is null)
        {
            LogUnknownItem(logger, answer.Service, answer.DataCategory, answer.ResourceId);
        }

        var kind = answer.Action == RetentionActions.Anonymize ? AuditKinds.RetentionAnonymized : AuditKinds.RetentionDeleted;
        await audit.AppendAsync(connection, transaction, new AuditRecord(kind, answer.Service, null, new Dictionary<string, object?>
        {
            ["sweep"] = sweep,
            ["call"] = answer.ResourceId,
            ["category"] = answer.DataCategory,
            ["region"] = region,
            ["items"] = answer.ItemsAffected,
            ["event"] = answer.RetentionEventId,
        }), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>What a sweep at <paramref name="asOf"/> would find; <paramref name="limit"/> items are listed.</summary>
    public async Task<RetentionReport> ReportAsync(DateTimeOffset asOf, int limit, CancellationToken cancellationToken)
    {
        var holders = options.Value.Holders;
        var unswept = new[] { DataCategories.Recording, DataCategories.Transcript, DataCategories.CallMetadata }.Where(c => !holders.ContainsKey(c)).ToArray();
        var groups = new Dictionary<(string Category, string Region, string Action), (int Count, DateTimeOffset Oldest)>();
        var items = new List<ReportItem>();
        var total = 0;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        if (holders.Count > 0)
        {
            await using var select = Due(connection, transaction, asOf, holders.Keys, "");
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var row = Read(reader);
                var (region, rule, dueAt) = Govern(row);
                var key = (row.Category, region.ToString(), rule.Action);
                var group = groups.GetValueOrDefault(key, (0, dueAt));
                groups[key] = (group.Item1 + 1, dueAt < group.Item2 ? dueAt : group.Item2);
                if (items.Count < limit)
                {
                    items.Add(new ReportItem(row.CallId, row.Category, region.ToString(), rule.Action, dueAt, row.ProviderRecordings));
                }

                total++;
            }
        }

        int expiring;
        await using (var pending = new NpgsqlCommand("SELECT count(*)::int FROM retention_items WHERE state = 'expiring'", connection, transaction))
        {
            expiring = (int)(await pending.ExecuteScalarAsync(cancellationToken))!;
        }

        return new RetentionReport(
            asOf,
            total,
            [.. groups.OrderBy(g => g.Key).Select(g => new ReportGroup(g.Key.Category, g.Key.Region, g.Key.Action, g.Value.Count, g.Value.Oldest))],
            items,
            total > items.Count,
            expiring,
            holders,
            unswept);
    }

    public async Task<SweepView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var sweeps = await ReadSweepsAsync(connection, transaction, "WHERE id = $1", new NpgsqlParameter<Guid> { TypedValue = id }, cancellationToken);
        return sweeps.Count == 0 ? null : sweeps[0];
    }

    /// <summary>The latest sweeps, newest first.</summary>
    public async Task<IReadOnlyList<SweepView>> RecentAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        return await ReadSweepsAsync(connection, transaction, "ORDER BY requested_at DESC, id DESC LIMIT $1", new NpgsqlParameter<int> { TypedValue = limit }, cancellationToken);
    }

    private static async Task<List<SweepView>> ReadSweepsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string where, NpgsqlParameter parameter, CancellationToken cancellationToken)
    {
        var rows = new List<SweepView>();
        await using (var select = new NpgsqlCommand(
            $"SELECT id, trigger, requested_by, requested_at, status, as_of, started_at, finished_at, found, error FROM retention_sweeps {where}", connection, transaction))
        {
            select.Parameters.Add(parameter);
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new SweepView(
                    reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4),
                    reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
                    reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6),
                    reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
                    reader.GetInt32(8), 0, 0, reader.IsDBNull(9) ? null : reader.GetString(9), []));
            }
        }

        for (var i = 0; i < rows.Count; i++)
        {
            var groups = new List<SweepGroup>();
            var expiring = 0;
            await using (var select = new NpgsqlCommand("""
                SELECT category, region, action, count(*)::int, count(*) FILTER (WHERE state = 'enforced')::int,
                       COALESCE(sum((SELECT sum(v::int) FROM jsonb_each_text(confirmed) AS e(k, v))), 0)::int,
                       count(*) FILTER (WHERE state = 'expiring')::int
                FROM retention_items WHERE sweep_id = $1 GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
                """, connection, transaction))
            {
                select.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = rows[i].Id });
                await using var reader = await select.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    groups.Add(new SweepGroup(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5)));
                    expiring += reader.GetInt32(6);
                }
            }

            var status = rows[i].Status == "published" && expiring == 0 ? "completed" : rows[i].Status;
            rows[i] = rows[i] with { Status = status, Expiring = expiring, Enforced = groups.Sum(g => g.Enforced), Groups = groups };
        }

        return rows;
    }

    private NpgsqlCommand Due(NpgsqlConnection connection, NpgsqlTransaction transaction, DateTimeOffset asOf, IEnumerable<string> categories, string suffix)
    {
        var current = policies.Value;
        var table = (from category in categories
                     from region in Enum.GetValues<Region>()
                     select (Region: region.ToString(), Category: category, Days: RetentionOptions.RuleFor(current.For(region), category).AfterDays)).ToList();
        var select = new NpgsqlCommand(DueSql + suffix, connection, transaction);
        select.Parameters.Add(TextArray(table.Select(t => t.Region)));
        select.Parameters.Add(TextArray(table.Select(t => t.Category)));
        select.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. table.Select(t => t.Days)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        select.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = asOf - TimeSpan.FromDays(table.Min(t => t.Days)) });
        select.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = asOf });
        return select;
    }

    private (Region Region, RetentionRule Rule, DateTimeOffset DueAt) Govern(DueRow row)
    {
        var (region, rule) = policies.Value.Governing(row.Category, Parse(row.FromRegion), Parse(row.ToRegion));
        return (region, rule, row.Basis + TimeSpan.FromDays(rule.AfterDays));
    }

    private static Region Parse(string region) => Enum.TryParse<Region>(region, out var parsed) ? parsed : Region.OTHER;

    private static DueRow Read(NpgsqlDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4), reader.GetInt32(5));

    private static NpgsqlParameter<string[]> TextArray(IEnumerable<string> values) =>
        new() { TypedValue = [.. values], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };

    private sealed record DueRow(string CallId, string Category, string FromRegion, string ToRegion, DateTimeOffset Basis, int ProviderRecordings);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention sweep {SweepId} as of {AsOf}: {Found} item(s) past their policy published to their holders")]
    private static partial void LogSwept(ILogger logger, Guid sweepId, int found, DateTimeOffset asOf);

    [LoggerMessage(Level = LogLevel.Error, Message = "Retention sweep {SweepId} failed: {Error}")]
    private static partial void LogSweepFailed(ILogger logger, Guid sweepId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} retention item(s) not confirmed in time were published again")]
    private static partial void LogRepublished(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Service} confirmed retention of {Category} for call {CallId}, which no sweep published; audited anyway")]
    private static partial void LogUnknownItem(ILogger logger, string service, string category, string callId);
}
