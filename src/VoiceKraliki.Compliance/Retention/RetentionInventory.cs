using MassTransit;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.Compliance.Regions;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.Compliance.Retention;

/// <summary>
/// What retention must later find: every call the providers told us about, with its parties' regions (looked up from
/// the numbers, which are not kept), when it was last heard of and when it ended, and which categories of data exist
/// for it — a call record always, a recording once a media stream started or the provider reported one (whose id is
/// kept for deletion at the provider). Each write is an idempotent upsert, so a redelivered event changes nothing.
/// </summary>
public sealed class RetentionInventory(NpgsqlDataSource dataSource, RegionDirectory regions, MigrationRunner migrations)
{
    private const string UpsertCallSql = """
        INSERT INTO retention_calls (provider_call_id, provider, from_region, to_region, first_seen_at, last_event_at, ended_at, provider_recordings)
        VALUES ($1, $2, $3, $4, $5, $5, $6, $7)
        ON CONFLICT (provider_call_id) DO UPDATE SET
            from_region = COALESCE(EXCLUDED.from_region, retention_calls.from_region),
            to_region = COALESCE(EXCLUDED.to_region, retention_calls.to_region),
            first_seen_at = LEAST(retention_calls.first_seen_at, EXCLUDED.first_seen_at),
            last_event_at = GREATEST(retention_calls.last_event_at, EXCLUDED.last_event_at),
            ended_at = GREATEST(retention_calls.ended_at, EXCLUDED.ended_at),
            provider_recordings = ARRAY(SELECT DISTINCT r FROM unnest(retention_calls.provider_recordings || EXCLUDED.provider_recordings) AS r ORDER BY r)
        """;

    // A stream alone does not move the call's times: its webhooks say when it ended.
    private const string UpsertStreamCallSql = """
        INSERT INTO retention_calls (provider_call_id, provider, first_seen_at, last_event_at)
        VALUES ($1, $2, $3, $3)
        ON CONFLICT (provider_call_id) DO NOTHING
        """;

    private const string AddItemsSql = """
        INSERT INTO retention_items (provider_call_id, category)
        SELECT $1, c FROM unnest($2::text[]) AS c
        ON CONFLICT (provider_call_id, category) DO NOTHING
        """;

    public async Task RecordCallEventAsync(CallEventReceived e, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (string.IsNullOrWhiteSpace(e.ProviderCallId))
        {
            return;
        }

        var ended = e.Status is CallStatus.Completed or CallStatus.Failed ? e.OccurredAt : (DateTimeOffset?)null;
        var recordings = e.Recording?.RecordingId is { Length: > 0 } id ? new[] { id } : [];
        string[] categories = e.Recording is null ? [DataCategories.CallMetadata] : [DataCategories.CallMetadata, DataCategories.Recording];

        await migrations.Completion.WaitAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var upsert = new NpgsqlCommand(UpsertCallSql, connection, transaction))
        {
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.ProviderCallId });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Provider(e.Provider) });
            upsert.Parameters.Add(new NpgsqlParameter { Value = RegionOf(e.From) ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            upsert.Parameters.Add(new NpgsqlParameter { Value = RegionOf(e.To) ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = e.OccurredAt });
            upsert.Parameters.Add(new NpgsqlParameter { Value = ended ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            upsert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = recordings, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await AddItemsAsync(connection, transaction, e.ProviderCallId, categories, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task RecordStreamAsync(MediaStreamStarted e, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (string.IsNullOrWhiteSpace(e.ProviderCallId))
        {
            // A stream that names no call cannot be tied to a retention period; media-bridge names every call it knows.
            return;
        }

        await migrations.Completion.WaitAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var upsert = new NpgsqlCommand(UpsertStreamCallSql, connection, transaction))
        {
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.ProviderCallId });
            upsert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Provider(e.Provider) });
            upsert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = e.OccurredAt });
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await AddItemsAsync(connection, transaction, e.ProviderCallId, [DataCategories.Recording], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The party's region; null when the event does not name the party (an unusable number is OTHER).</summary>
    private string? RegionOf(string? number) =>
        string.IsNullOrWhiteSpace(number) ? null : regions.Lookup(number).Region.ToString();

    private static string Provider(TelephonyProvider provider) => provider.ToString().ToLowerInvariant();

    private static async Task AddItemsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string callId, string[] categories, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand(AddItemsSql, connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = callId });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = categories, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>Keeps <see cref="RetentionInventory"/> up to date from the call events and media streams on the bus.</summary>
public sealed class RetentionInventoryConsumer(RetentionInventory inventory) : IConsumer<CallEventReceived>, IConsumer<MediaStreamStarted>
{
    public Task Consume(ConsumeContext<CallEventReceived> context) =>
        inventory.RecordCallEventAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<MediaStreamStarted> context) =>
        inventory.RecordStreamAsync(context.Message, context.CancellationToken);
}
