using System.Data;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Rules;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;

namespace VoiceKraliki.Alerting.Lifecycle;

/// <summary>One step in an alert's history.</summary>
public sealed record AlertEvent(string Kind, DateTimeOffset At, string? Actor, string? Note, double? Value);

/// <summary>An alert with its history.</summary>
public sealed record AlertDetail(AlertSnapshot Alert, IReadOnlyList<AlertEvent> History);

/// <summary>What <c>GET /api/alerts</c> filters on; labels must all match exactly.</summary>
public sealed record AlertFilter(AlertState? State, string? Severity, LabelSet Labels, bool? Acknowledged, int Limit, Guid? Before);

/// <summary>
/// Alerts in Postgres, the truth every replica reads. The engine applies its transitions here in one transaction with
/// their history and their <see cref="AlertFired"/> / <see cref="AlertResolved"/> events (outbox); operators
/// acknowledge and resolve here. A change that lost a race (an alert resolved by hand while the engine updated it)
/// changes nothing: every write is conditional on the state it expects.
/// </summary>
public sealed class AlertStore(NpgsqlDataSource dataSource, OutboxWriter outbox, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string Columns =
        "id, fingerprint, rule_name, labels, annotations, state, value, active_at, fired_at, last_breach_at, resolved_at, resolved_by, ack_by, ack_at, ack_note";

    /// <summary>Every pending or firing alert, by fingerprint.</summary>
    public async Task<IReadOnlyDictionary<string, AlertSnapshot>> ActiveAsync(CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand($"SELECT {Columns} FROM alerts WHERE state IN ('pending', 'firing')");
        var active = new Dictionary<string, AlertSnapshot>(StringComparer.Ordinal);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var alert = Read(reader);
            active[alert.Fingerprint] = alert;
        }

        return active;
    }

    /// <summary>Every firing alert, and those that fired and resolved after <paramref name="resolvedSince"/> (the dispatcher's view).</summary>
    public async Task<IReadOnlyList<AlertSnapshot>> NotifiableAsync(DateTimeOffset resolvedSince, CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand(
            $"SELECT {Columns} FROM alerts WHERE state = 'firing' OR (state = 'resolved' AND fired_at IS NOT NULL AND resolved_at > $1) ORDER BY id");
        select.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = resolvedSince });
        var alerts = new List<AlertSnapshot>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            alerts.Add(Read(reader));
        }

        return alerts;
    }

    /// <summary>
    /// Writes the engine's transitions, their history and events in one transaction; returns those that took effect
    /// (a transition of an alert resolved by hand meanwhile does not).
    /// </summary>
    public async Task<IReadOnlyList<AlertTransition>> ApplyAsync(IReadOnlyList<AlertTransition> transitions, CancellationToken cancellationToken)
    {
        if (transitions.Count == 0)
        {
            return [];
        }

        var applied = new List<AlertTransition>(transitions.Count);
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        foreach (var transition in transitions)
        {
            var alert = transition.Alert;
            var changed = transition.Kind switch
            {
                TransitionKind.Dropped => await DeleteDroppedAsync(connection, transaction, alert, cancellationToken),
                // A new alert (pending, or firing at once when `for` is 0) is inserted; one the store has is updated.
                TransitionKind.Pending or TransitionKind.Fired => await UpdateAsync(connection, transaction, alert, now, cancellationToken) is var updated && updated > 0
                    ? updated
                    : await InsertAsync(connection, transaction, alert, now, cancellationToken),
                _ => await UpdateAsync(connection, transaction, alert, now, cancellationToken),
            };

            if (changed == 0)
            {
                continue;
            }

            applied.Add(transition);
            var kind = transition.Kind switch
            {
                TransitionKind.Pending => "pending",
                TransitionKind.Fired => "fired",
                TransitionKind.Resolved => "resolved",
                _ => null,
            };
            if (kind is not null)
            {
                await AddEventAsync(connection, transaction, alert.Id, kind, now, alert.ResolvedBy, null, alert.Value, cancellationToken);
            }

            if (transition.Kind is TransitionKind.Fired)
            {
                await outbox.EnqueueAsync(connection, transaction, Fired(alert, now), cancellationToken);
            }
            else if (transition.Kind is TransitionKind.Resolved)
            {
                await outbox.EnqueueAsync(connection, transaction, ResolvedEvent(alert, now), cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        outbox.Notify();
        return applied;
    }

    /// <summary>Records who acknowledged a firing or pending alert, and why; null when there is no such active alert.</summary>
    public async Task<AlertSnapshot?> AcknowledgeAsync(Guid id, string by, string? note, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        AlertSnapshot? alert;
        await using (var update = new NpgsqlCommand(
            $"UPDATE alerts SET ack_by = $2, ack_at = $3, ack_note = $4, updated_at = $3 WHERE id = $1 AND state IN ('pending', 'firing') RETURNING {Columns}",
            connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = by });
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            update.Parameters.Add(Text(note));
            alert = await ReadOneAsync(update, cancellationToken);
        }

        if (alert is not null)
        {
            await AddEventAsync(connection, transaction, id.ToString("D"), "acknowledged", now, by, note, null, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return alert;
    }

    /// <summary>Resolves an active alert by hand (who and why recorded, <see cref="AlertResolved"/> published); null when none.</summary>
    public async Task<AlertSnapshot?> ResolveAsync(Guid id, string by, string? note, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        AlertSnapshot? alert;
        await using (var update = new NpgsqlCommand(
            $"UPDATE alerts SET state = 'resolved', resolved_at = $2, resolved_by = $3, updated_at = $2 WHERE id = $1 AND state IN ('pending', 'firing') RETURNING {Columns}",
            connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = by });
            alert = await ReadOneAsync(update, cancellationToken);
        }

        if (alert is not null)
        {
            await AddEventAsync(connection, transaction, id.ToString("D"), "resolved", now, by, note, alert.Value, cancellationToken);
            await outbox.EnqueueAsync(connection, transaction, ResolvedEvent(alert, now), cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        outbox.Notify();
        return alert;
    }

    public async Task<AlertDetail?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        AlertSnapshot? alert;
        await using (var select = new NpgsqlCommand($"SELECT {Columns} FROM alerts WHERE id = $1", connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            alert = await ReadOneAsync(select, cancellationToken);
        }

        if (alert is null)
        {
            return null;
        }

        var history = new List<AlertEvent>();
        await using (var events = new NpgsqlCommand("SELECT kind, at, actor, note, value FROM alert_events WHERE alert_id = $1 ORDER BY id", connection, transaction))
        {
            events.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            await using var reader = await events.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                history.Add(new AlertEvent(
                    reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetDouble(4)));
            }
        }

        return new AlertDetail(alert, history);
    }

    /// <summary>Alerts newest first, filtered; <see cref="AlertFilter.Before"/> pages by id (ids sort by time).</summary>
    public async Task<IReadOnlyList<AlertSnapshot>> ListAsync(AlertFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var where = new List<string>();
        await using var select = dataSource.CreateCommand();
        if (filter.State is { } state)
        {
            select.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StateText(state) });
            where.Add($"state = ${select.Parameters.Count}");
        }

        if (filter.Severity is { } severity)
        {
            select.Parameters.Add(new NpgsqlParameter<string> { TypedValue = severity });
            where.Add($"severity = ${select.Parameters.Count}");
        }

        if (filter.Labels.Count > 0)
        {
            select.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(filter.Labels, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
            where.Add($"labels @> ${select.Parameters.Count}");
        }

        if (filter.Acknowledged is { } acknowledged)
        {
            where.Add(acknowledged ? "ack_at IS NOT NULL" : "ack_at IS NULL");
        }

        if (filter.Before is { } before)
        {
            select.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = before });
            where.Add($"id < ${select.Parameters.Count}");
        }

        select.Parameters.Add(new NpgsqlParameter<int> { TypedValue = filter.Limit });
        select.CommandText = $"SELECT {Columns} FROM alerts {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY id DESC LIMIT ${select.Parameters.Count}";
        var alerts = new List<AlertSnapshot>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            alerts.Add(Read(reader));
        }

        return alerts;
    }

    private static async Task<int> InsertAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AlertSnapshot alert, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Another occurrence of the same label set still active, or this one resolved by hand meanwhile: nothing inserted.
        await using var insert = new NpgsqlCommand("""
            INSERT INTO alerts (id, fingerprint, rule_name, labels, annotations, state, severity, value, active_at, fired_at, last_breach_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT DO NOTHING
            """, connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.Parse(alert.Id) });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = alert.Fingerprint });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = alert.RuleName });
        insert.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(alert.Labels, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(alert.Annotations, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StateText(alert.State) });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = alert.Severity });
        insert.Parameters.Add(new NpgsqlParameter<double> { TypedValue = Finite(alert.Value) });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = alert.ActiveAt });
        insert.Parameters.Add(Time(alert.FiredAt));
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = alert.LastBreachAt });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        return await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<int> UpdateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AlertSnapshot alert, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Only an alert still active changes: one resolved by hand meanwhile stays resolved.
        await using var update = new NpgsqlCommand("""
            UPDATE alerts SET state = $2, value = $3, annotations = $4, fired_at = $5, last_breach_at = $6, resolved_at = $7, updated_at = $8
            WHERE id = $1 AND state IN ('pending', 'firing')
            """, connection, transaction);
        update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.Parse(alert.Id) });
        update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = StateText(alert.State) });
        update.Parameters.Add(new NpgsqlParameter<double> { TypedValue = Finite(alert.Value) });
        update.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(alert.Annotations, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        update.Parameters.Add(Time(alert.FiredAt));
        update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = alert.LastBreachAt });
        update.Parameters.Add(Time(alert.ResolvedAt));
        update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        return await update.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A pending alert whose condition cleared before `for`: never notified, so not worth keeping.</summary>
    private static async Task<int> DeleteDroppedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, AlertSnapshot alert, CancellationToken cancellationToken)
    {
        await using var delete = new NpgsqlCommand("DELETE FROM alerts WHERE id = $1 AND state = 'pending'", connection, transaction);
        delete.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.Parse(alert.Id) });
        return await delete.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task AddEventAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string id, string kind, DateTimeOffset at, string? actor, string? note, double? value,
        CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand(
            "INSERT INTO alert_events (alert_id, kind, at, actor, note, value) VALUES ($1, $2, $3, $4, $5, $6)", connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.Parse(id) });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        insert.Parameters.Add(Text(actor));
        insert.Parameters.Add(Text(note));
        insert.Parameters.Add(new NpgsqlParameter { Value = value is { } v ? Finite(v) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private static AlertFired Fired(AlertSnapshot alert, DateTimeOffset now) => new(
        NameBasedGuid.Create($"alerting/alert-fired/{alert.Id}"), now, alert.Fingerprint, alert.Id, alert.RuleName, alert.Severity,
        alert.Labels.ToDictionary(StringComparer.Ordinal), alert.Annotations, Finite(alert.Value));

    private static AlertResolved ResolvedEvent(AlertSnapshot alert, DateTimeOffset now) => new(
        NameBasedGuid.Create($"alerting/alert-resolved/{alert.Id}"), now, alert.Fingerprint, alert.Id, alert.RuleName,
        alert.Labels.ToDictionary(StringComparer.Ordinal), alert.ResolvedBy ?? "alerting");

    private static async Task<AlertSnapshot?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private static AlertSnapshot Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0).ToString("D"),
        reader.GetString(1),
        reader.GetString(2),
        JsonSerializer.Deserialize<LabelSet>(reader.GetString(3), Json)!,
        JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(4), Json)!,
        reader.GetString(5) switch { "pending" => AlertState.Pending, "firing" => AlertState.Firing, _ => AlertState.Resolved },
        reader.GetDouble(6),
        reader.GetFieldValue<DateTimeOffset>(7),
        reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
        reader.GetFieldValue<DateTimeOffset>(9),
        reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10),
        reader.IsDBNull(11) ? null : reader.GetString(11),
        reader.IsDBNull(12) ? null : new Acknowledgement(reader.GetString(12), reader.GetFieldValue<DateTimeOffset>(13), reader.IsDBNull(14) ? null : reader.GetString(14)));

    internal static string StateText(AlertState state) => state switch
    {
        AlertState.Pending => "pending",
        AlertState.Firing => "firing",
        _ => "resolved",
    };

    private static double Finite(double value) => double.IsFinite(value) ? value : 0;

    private static NpgsqlParameter Text(string? value) => new() { Value = value ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Time(DateTimeOffset? value) => new() { Value = value ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
