using Npgsql;
using NpgsqlTypes;

namespace VoiceKraliki.Alerting.Notifications;

/// <summary>What a channel was last told about a group (Alertmanager's notification log entry).</summary>
/// <param name="Firing">Fingerprints of the alerts it was told are firing.</param>
/// <param name="Resolved">Fingerprints it was told have resolved, in the same notification.</param>
/// <param name="SentAt">When the last notification was delivered (the epoch when none ever was).</param>
/// <param name="LastAttemptAt">When the last delivery was tried, delivered or not.</param>
public sealed record LogEntry(
    string GroupKey,
    Guid ChannelId,
    string Receiver,
    IReadOnlySet<string> Firing,
    IReadOnlySet<string> Resolved,
    bool Acknowledged,
    DateTimeOffset SentAt,
    DateTimeOffset LastAttemptAt,
    string LastOutcome);

/// <summary>One delivery, as the API lists them.</summary>
public sealed record DeliveryRecord(string GroupKey, Guid ChannelId, string Status, IReadOnlyList<string> Alerts, string Outcome, int Attempts, int? HttpStatus, string? Error, DateTimeOffset At);

/// <summary>
/// The notification log in Postgres, read by the leading replica when it takes over and written after every
/// delivery, so that a restart or a new leader does not tell a channel again what it already knows.
/// </summary>
public sealed class NotificationLog(NpgsqlDataSource dataSource)
{
    public static readonly DateTimeOffset Never = DateTimeOffset.UnixEpoch;

    public async Task<Dictionary<(string GroupKey, Guid ChannelId), LogEntry>> LoadAsync(CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand(
            "SELECT group_key, channel_id, receiver, firing, resolved, acknowledged, sent_at, last_attempt_at, last_outcome FROM notification_log");
        var entries = new Dictionary<(string, Guid), LogEntry>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var entry = new LogEntry(
                reader.GetString(0), reader.GetGuid(1), reader.GetString(2),
                reader.GetFieldValue<string[]>(3).ToHashSet(StringComparer.Ordinal), reader.GetFieldValue<string[]>(4).ToHashSet(StringComparer.Ordinal),
                reader.GetBoolean(5), reader.GetFieldValue<DateTimeOffset>(6), reader.GetFieldValue<DateTimeOffset>(7), reader.GetString(8));
            entries[(entry.GroupKey, entry.ChannelId)] = entry;
        }

        return entries;
    }

    /// <summary>Records an entry and the delivery that produced it, in one transaction.</summary>
    public async Task RecordAsync(LogEntry entry, DeliveryRecord delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(delivery);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var upsert = new NpgsqlCommand("""
            INSERT INTO notification_log (group_key, channel_id, receiver, firing, resolved, acknowledged, sent_at, last_attempt_at, last_outcome)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            ON CONFLICT (group_key, channel_id) DO UPDATE SET receiver = EXCLUDED.receiver, firing = EXCLUDED.firing, resolved = EXCLUDED.resolved,
                acknowledged = EXCLUDED.acknowledged, sent_at = EXCLUDED.sent_at, last_attempt_at = EXCLUDED.last_attempt_at, last_outcome = EXCLUDED.last_outcome
            """, connection, transaction))
        {
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.GroupKey });
            upsert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = entry.ChannelId });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.Receiver });
            upsert.Parameters.Add(Texts(entry.Firing));
            upsert.Parameters.Add(Texts(entry.Resolved));
            upsert.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = entry.Acknowledged });
            upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = entry.SentAt });
            upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = entry.LastAttemptAt });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.LastOutcome });
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var insert = new NpgsqlCommand("""
            INSERT INTO notification_attempts (group_key, channel_id, status, alerts, outcome, attempts, http_status, error, at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """, connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = delivery.GroupKey });
            insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = delivery.ChannelId });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = delivery.Status });
            insert.Parameters.Add(Texts(delivery.Alerts));
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = delivery.Outcome });
            insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = delivery.Attempts });
            insert.Parameters.Add(new NpgsqlParameter { Value = delivery.HttpStatus ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
            insert.Parameters.Add(new NpgsqlParameter { Value = delivery.Error ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = delivery.At });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The latest deliveries, newest first, optionally of one channel.</summary>
    public async Task<IReadOnlyList<DeliveryRecord>> DeliveriesAsync(Guid? channelId, int limit, CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand(
            "SELECT group_key, channel_id, status, alerts, outcome, attempts, http_status, error, at FROM notification_attempts "
            + (channelId is null ? "" : "WHERE channel_id = $2 ") + "ORDER BY id DESC LIMIT $1");
        select.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        if (channelId is { } id)
        {
            select.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        }

        var records = new List<DeliveryRecord>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(new DeliveryRecord(
                reader.GetString(0), reader.GetGuid(1), reader.GetString(2), reader.GetFieldValue<string[]>(3), reader.GetString(4), reader.GetInt32(5),
                reader.IsDBNull(6) ? null : reader.GetInt32(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetFieldValue<DateTimeOffset>(8)));
        }

        return records;
    }

    private static NpgsqlParameter<string[]> Texts(IEnumerable<string> values) =>
        new() { TypedValue = [.. values.Order(StringComparer.Ordinal)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text };
}
