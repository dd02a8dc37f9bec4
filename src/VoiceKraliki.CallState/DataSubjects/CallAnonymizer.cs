using System.Data;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.CallState.Reconciliation;
using VoiceKraliki.ServiceDefaults.Redis;

namespace VoiceKraliki.CallState.DataSubjects;

/// <summary>
/// Erasure by anonymization. Call records are kept (billing, retention policies), so the subject's number is taken
/// out of them instead: in one transaction every call with the number as <c>from_number</c> or <c>to_number</c> gets
/// it masked (<see cref="SubjectNumber.Mask"/>) and its <c>metadata</c> cut down to <see cref="KeptMetadata"/>, then
/// the snapshots of those calls in Redis are rewritten from Postgres and checked.
/// </summary>
public static class CallAnonymizer
{
    /// <summary>
    /// The <c>metadata</c> keys an anonymized call keeps: provider outcomes and our own markers, none about a person.
    /// Everything else goes: <c>raw_fields</c> (the provider's form, with From/To/Caller/Called, caller name and city),
    /// <c>client_state</c> (opaque application data), <c>recording</c> (a link to the subject's voice) and any key we
    /// do not know. A kept value that contains the number's digits goes too.
    /// </summary>
    public static readonly string[] KeptMetadata =
    [
        CallMetadata.AnsweredBy,
        CallMetadata.HangupCause,
        CallMetadata.LastEventType,
        CallMetadata.LastProviderStatus,
        CallMetadata.LastEventId,
        CallMetadata.LegId,
        StuckMarker.Since,
        StuckMarker.Status,
        StuckMarker.UpdatedAt,
    ];

    /// <summary>
    /// <c>metadata.erasure_requests</c>: the ids of the erasure requests that anonymized the call. Not personal data;
    /// it makes the erasure demonstrable and lets a redelivered request count what it erased the first time.
    /// </summary>
    public const string ErasureRequests = "erasure_requests";

    // $1 number, $2 its SIP/tel address regex, $3 masked number, $4 kept keys, $5 digits, $6 request id.
    private const string AnonymizeSql = """
        WITH matched AS (
            SELECT provider_call_id FROM calls
            WHERE from_number = $1 OR to_number = $1 OR from_number ~* $2 OR to_number ~* $2
            FOR UPDATE)
        UPDATE calls AS c
        SET from_number = CASE WHEN c.from_number = $1 OR c.from_number ~* $2 THEN $3 ELSE c.from_number END,
            to_number = CASE WHEN c.to_number = $1 OR c.to_number ~* $2 THEN $3 ELSE c.to_number END,
            metadata = COALESCE(
                    (SELECT jsonb_object_agg(m.key, m.value) FROM jsonb_each(c.metadata) AS m
                     WHERE m.key = ANY($4) AND strpos(m.value::text, $5) = 0),
                    '{}'::jsonb)
                || jsonb_build_object('erasure_requests',
                    CASE WHEN jsonb_typeof(c.metadata->'erasure_requests') = 'array' THEN c.metadata->'erasure_requests' ELSE '[]'::jsonb END
                    || to_jsonb($6::text))
        FROM matched
        WHERE c.provider_call_id = matched.provider_call_id
        """;

    // Every call this request anonymized, now or on an earlier delivery. A sequential scan, like the update's:
    // numbers are not indexed, and erasure requests are rare.
    private const string ErasedBySql = "SELECT provider_call_id FROM calls WHERE metadata->'erasure_requests' @> to_jsonb($1::text) ORDER BY provider_call_id";

    /// <summary>Anonymizes the number's calls; returns every call this request has anonymized (also on a redelivery).</summary>
    public static async Task<IReadOnlyList<string>> AnonymizeAsync(
        NpgsqlDataSource dataSource, string number, Guid requestId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);

        await using (var update = new NpgsqlCommand(AnonymizeSql, connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = number });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SubjectNumber.AddressRegex(number) });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SubjectNumber.Mask(number) });
            update.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = KeptMetadata, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SubjectNumber.Digits(number) });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = requestId.ToString("D") });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        var erased = new List<string>();
        await using (var select = new NpgsqlCommand(ErasedBySql, connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter<string> { TypedValue = requestId.ToString("D") });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                erased.Add(reader.GetString(0));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return erased;
    }

    /// <summary>
    /// Rewrites the calls' snapshots from Postgres (same version, new content), then reads back each call's current
    /// snapshot: throws when Redis could not be read or still holds the digits, so the request is retried and, failing
    /// that, dead-lettered rather than answered while a copy of the number remains.
    /// </summary>
    public static async Task RefreshSnapshotsAsync(
        CallCache cache, IRedisStore redis, CallCacheOptions options, TimeProvider time,
        IReadOnlyList<string> providerCallIds, string number, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(redis);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(providerCallIds);
        if (providerCallIds.Count == 0)
        {
            return;
        }

        await cache.RefreshAsync(providerCallIds, cancellationToken);
        var digits = SubjectNumber.Digits(number);
        foreach (var id in providerCallIds)
        {
            using var timeout = new CancellationTokenSource(options.ReadTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var version = await redis.GetAsync(CallCache.VersionKey(id), linked.Token);
            var snapshot = version is null ? null : await redis.GetAsync(CallCache.SnapshotKey(id, version), linked.Token);
            if (snapshot is not null && snapshot.Contains(digits, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The Redis snapshot of call {id} still holds the number after the refresh (Redis was skipped or the write failed).");
            }
        }
    }
}
