using Npgsql;

namespace VoiceKraliki.Alerting.Signals;

/// <summary>The <c>signal_events</c> table: compliance events and provider health states, shared by the replicas.</summary>
public sealed class SignalEventLog(NpgsqlDataSource dataSource)
{
    private const string Columns = "event_id, signal, provider, occurred_at, counted_at, value, received_at";

    /// <summary>Keeps <paramref name="e"/> unless its id is kept already, and returns what is kept (the first copy wins).</summary>
    public async Task<DurableSignalEvent> SaveAsync(DurableSignalEvent e, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        await using var command = dataSource.CreateCommand(
            $"""
             WITH inserted AS (
                 INSERT INTO signal_events (event_id, signal, provider, occurred_at, counted_at, value)
                 VALUES (@id, @signal, @provider, @occurred_at, @counted_at, @value)
                 ON CONFLICT (event_id) DO NOTHING
                 RETURNING {Columns})
             SELECT {Columns} FROM inserted
             UNION ALL
             SELECT {Columns} FROM signal_events WHERE event_id = @id
             """);
        command.Parameters.AddWithValue("id", e.EventId);
        command.Parameters.AddWithValue("signal", e.Signal);
        command.Parameters.AddWithValue("provider", (object?)e.Provider ?? DBNull.Value);
        command.Parameters.AddWithValue("occurred_at", e.OccurredAt.ToUniversalTime());
        command.Parameters.AddWithValue("counted_at", e.CountedAt.ToUniversalTime());
        command.Parameters.AddWithValue("value", e.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        // Both halves see the table as it was before the insert, so exactly one row comes back, unless another
        // transaction inserted the same id concurrently (then none, and ours is as good as theirs).
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : e;
    }

    /// <summary>
    /// The compliance events counted after <paramref name="countedAfter"/> (only those stored after
    /// <paramref name="receivedAfter"/>, when given), and the latest health state of each provider.
    /// </summary>
    /// <returns>The events, and the latest time one of them was stored (to pass as <paramref name="receivedAfter"/> next time).</returns>
    public async Task<(IReadOnlyList<DurableSignalEvent> Events, DateTimeOffset? LastReceivedAt)> LoadAsync(
        DateTimeOffset countedAfter, DateTimeOffset? receivedAfter, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
             SELECT {Columns} FROM signal_events
             WHERE signal <> 'provider_health' AND counted_at > @counted_after{(receivedAfter is null ? "" : " AND received_at > @received_after")}
             UNION ALL
             SELECT * FROM (
                 SELECT DISTINCT ON (provider) {Columns} FROM signal_events
                 WHERE signal = 'provider_health'
                 ORDER BY provider, occurred_at DESC, event_id DESC) latest
             """);
        command.Parameters.AddWithValue("counted_after", countedAfter.ToUniversalTime());
        if (receivedAfter is { } after)
        {
            command.Parameters.AddWithValue("received_after", after.ToUniversalTime());
        }

        var events = new List<DurableSignalEvent>();
        DateTimeOffset? lastReceived = null;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(Read(reader));
            var receivedAt = reader.GetFieldValue<DateTimeOffset>(6);
            if (lastReceived is null || receivedAt > lastReceived)
            {
                lastReceived = receivedAt;
            }
        }

        return (events, lastReceived);
    }

    /// <summary>
    /// Deletes the compliance events of each signal counted before its cutoff, and the provider states stored before
    /// <paramref name="healthBefore"/> that a later state of the same provider replaced (the latest is always kept).
    /// </summary>
    public async Task<int> PruneAsync(
        IReadOnlyCollection<(string Signal, DateTimeOffset CountedBefore)> counted, DateTimeOffset healthBefore, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(counted);
        await using var command = dataSource.CreateCommand(
            """
            WITH counted AS (
                DELETE FROM signal_events e USING unnest(@signals, @cutoffs) AS c(signal, cutoff)
                WHERE e.signal = c.signal AND e.signal <> 'provider_health' AND e.counted_at < c.cutoff
                RETURNING 1),
            replaced AS (
                DELETE FROM signal_events e
                WHERE e.signal = 'provider_health' AND e.received_at < @health_before
                  AND EXISTS (SELECT 1 FROM signal_events n
                              WHERE n.signal = 'provider_health' AND n.provider IS NOT DISTINCT FROM e.provider
                                AND (n.occurred_at, n.event_id) > (e.occurred_at, e.event_id))
                RETURNING 1)
            SELECT (SELECT count(*) FROM counted) + (SELECT count(*) FROM replaced)
            """);
        command.Parameters.AddWithValue("signals", counted.Select(c => c.Signal).ToArray());
        command.Parameters.AddWithValue("cutoffs", counted.Select(c => c.CountedBefore.ToUniversalTime()).ToArray());
        command.Parameters.AddWithValue("health_before", healthBefore.ToUniversalTime());
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static DurableSignalEvent Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetFieldValue<DateTimeOffset>(3),
        reader.GetFieldValue<DateTimeOffset>(4),
        reader.GetDouble(5));
}
