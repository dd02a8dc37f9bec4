using System.Data;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
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
/// the snapshots of those calls in Redis are rewritten from Postgres and checked. Retention anonymizes one call the
/// same way, both of its numbers (<see cref="AnonymizeCallAsync"/>).
/// </summary>
public static partial class CallAnonymizer
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
        Retention,
    ];

    /// <summary>
    /// <c>metadata.erasure_requests</c>: the ids of the erasure requests that anonymized the call. Not personal data;
    /// it makes the erasure demonstrable and lets a redelivered request count what it erased the first time.
    /// </summary>
    public const string ErasureRequests = "erasure_requests";

    /// <summary>
    /// <c>metadata.retention</c>: <c>{"sweep": id, "at": time}</c>, the retention sweep that anonymized the call and
    /// when it first did. Not personal data; kept by a later erasure too (<see cref="KeptMetadata"/>).
    /// </summary>
    public const string Retention = "retention";

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

    private const string LockCallSql = "SELECT from_number, to_number FROM calls WHERE provider_call_id = $1 FOR UPDATE";

    // $1 call id, $2 masked from, $3 masked to, $4 kept keys, $5 digits that must not stay, $6 sweep id, $7 time.
    // The marker of the same sweep is kept as it is, so that a redelivery leaves the row exactly as the first one did.
    private const string AnonymizeCallSql = """
        UPDATE calls AS c
        SET from_number = $2,
            to_number = $3,
            metadata = COALESCE(
                    (SELECT jsonb_object_agg(m.key, m.value) FROM jsonb_each(c.metadata) AS m
                     WHERE m.key = ANY($4)
                       AND NOT EXISTS (SELECT 1 FROM unnest($5::text[]) AS d (digits) WHERE strpos(m.value::text, d.digits) > 0)),
                    '{}'::jsonb)
                || CASE WHEN jsonb_typeof(c.metadata->'erasure_requests') = 'array'
                        THEN jsonb_build_object('erasure_requests', c.metadata->'erasure_requests')
                        ELSE '{}'::jsonb END
                || jsonb_build_object('retention',
                    CASE WHEN c.metadata->'retention'->>'sweep' = $6 THEN c.metadata->'retention'
                         ELSE jsonb_build_object('sweep', $6, 'at', $7) END)
        WHERE c.provider_call_id = $1
        """;

    /// <summary>A call as retention left it: its stored numbers, masked, and the digits of the numbers it had before.</summary>
    /// <param name="RemovedDigits">
    /// The digits of the E.164 numbers this run masked; empty when the numbers were masked already (a redelivery).
    /// </param>
    public sealed record AnonymizedCall(string ProviderCallId, string? From, string? To, IReadOnlyList<string> RemovedDigits);

    /// <summary>
    /// Anonymizes one call in one transaction: both numbers masked (<see cref="MaskStored"/>, which leaves a masked
    /// number as it is) and <c>metadata</c> cut down to <see cref="KeptMetadata"/>, keeping
    /// <see cref="ErasureRequests"/> and marking it with <see cref="Retention"/>. Running it again changes nothing.
    /// Returns null when there is no such call.
    /// </summary>
    public static async Task<AnonymizedCall?> AnonymizeCallAsync(
        NpgsqlDataSource dataSource, string providerCallId, Guid sweepId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);

        string? from, to;
        await using (var select = new NpgsqlCommand(LockCallSql, connection, transaction))
        {
            select.Parameters.Add(new NpgsqlParameter<string> { TypedValue = providerCallId });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            from = reader.IsDBNull(0) ? null : reader.GetString(0);
            to = reader.IsDBNull(1) ? null : reader.GetString(1);
        }

        string[] digits = [.. new[] { from, to }.Select(E164Of).OfType<string>().Select(SubjectNumber.Digits).Distinct(StringComparer.Ordinal)];
        var anonymized = new AnonymizedCall(providerCallId, MaskStored(from), MaskStored(to), digits);
        await using (var update = new NpgsqlCommand(AnonymizeCallSql, connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = providerCallId });
            update.Parameters.Add(new NpgsqlParameter { Value = (object?)anonymized.From ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            update.Parameters.Add(new NpgsqlParameter { Value = (object?)anonymized.To ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            update.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = KeptMetadata, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            update.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = digits, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sweepId.ToString("D"), NpgsqlDbType = NpgsqlDbType.Text });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture), NpgsqlDbType = NpgsqlDbType.Text });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return anonymized;
    }

    /// <summary>
    /// What a stored <c>from_number</c> or <c>to_number</c> becomes when its call is anonymized: an E.164 number, or a
    /// SIP/tel address of one, its mask (<see cref="SubjectNumber.Mask"/>); a masked value stays as it is; anything
    /// else (a SIP user, a Twilio client name, a short code) becomes asterisks and its last four digits, if any.
    /// </summary>
    public static string? MaskStored(string? stored)
    {
        if (string.IsNullOrEmpty(stored) || Masked().IsMatch(stored))
        {
            return stored;
        }

        if (E164Of(stored) is { } number)
        {
            return SubjectNumber.Mask(number);
        }

        var digits = new string([.. stored.Where(char.IsAsciiDigit)]);
        return "***" + digits[Math.Max(0, digits.Length - 4)..];
    }

    /// <summary>The E.164 number <paramref name="stored"/> is, or is the SIP/tel address of; null for anything else.</summary>
    private static string? E164Of(string? stored)
    {
        if (SubjectNumber.IsE164(stored))
        {
            return stored;
        }

        var address = stored is null ? null : E164Address().Match(stored);
        return address is { Success: true } ? address.Groups["number"].Value : null;
    }

    /// <summary>
    /// Rewrites the call's snapshot from Postgres, then reads it back: throws when Redis could not be read, or its
    /// snapshot's numbers are not the anonymized ones or it still holds the digits of the numbers before, so that
    /// retention is retried and, failing that, dead-lettered rather than answered while a copy remains.
    /// </summary>
    public static async Task RefreshSnapshotAsync(
        CallCache cache, IRedisStore redis, CallCacheOptions options, TimeProvider time, AnonymizedCall call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cache);
        ArgumentNullException.ThrowIfNull(call);
        await cache.RefreshAsync([call.ProviderCallId], cancellationToken);
        var snapshot = await ReadSnapshotAsync(redis, options, time, call.ProviderCallId, cancellationToken);
        if (snapshot is null)
        {
            return;
        }

        var cached = JsonSerializer.Deserialize<CallView>(snapshot, CallView.JsonOptions);
        if (cached is null
            || !string.Equals(cached.From, call.From, StringComparison.Ordinal)
            || !string.Equals(cached.To, call.To, StringComparison.Ordinal)
            || call.RemovedDigits.Any(d => snapshot.Contains(d, StringComparison.Ordinal)))
        {
            throw new InvalidOperationException($"The Redis snapshot of call {call.ProviderCallId} is not the anonymized call after the refresh (Redis was skipped or the write failed).");
        }
    }

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
            var snapshot = await ReadSnapshotAsync(redis, options, time, id, cancellationToken);
            if (snapshot is not null && snapshot.Contains(digits, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"The Redis snapshot of call {id} still holds the number after the refresh (Redis was skipped or the write failed).");
            }
        }
    }

    /// <summary>The call's current snapshot in Redis, as JSON; null when Redis holds none. Throws when Redis does not answer in time.</summary>
    private static async Task<string?> ReadSnapshotAsync(
        IRedisStore redis, CallCacheOptions options, TimeProvider time, string providerCallId, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(options.ReadTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var version = await redis.GetAsync(CallCache.VersionKey(providerCallId), linked.Token);
        return version is null ? null : await redis.GetAsync(CallCache.SnapshotKey(providerCallId, version), linked.Token);
    }

    /// <summary>What <see cref="MaskStored"/> writes: an optional <c>+</c>, asterisks, at most the last four digits.</summary>
    [GeneratedRegex(@"^\+?\*+[0-9]{0,4}$", RegexOptions.CultureInvariant)]
    private static partial Regex Masked();

    /// <summary>A <c>sip:</c>, <c>sips:</c> or <c>tel:</c> address whose user part is an E.164 number (as <see cref="SubjectNumber.AddressRegex"/>).</summary>
    [GeneratedRegex(@"^(?:sips?|tel):(?<number>\+[1-9][0-9]{7,14})(?:[@;]|$)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex E164Address();
}
