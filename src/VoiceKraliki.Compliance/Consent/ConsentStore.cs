using VoiceKraliki.Compliance.Extensions;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.Compliance.Audit;
using VoiceKraliki.Compliance.Decisions;
using VoiceKraliki.Compliance.Regions;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;

namespace VoiceKraliki.Compliance.Consent;

/// <summary>
/// Consent events in Postgres. Recording one is one transaction: the subject (found or created by the number's keyed
/// hash), the event, its audit entry and its <see cref="ConsentChanged"/> in the outbox; after the commit the
/// decisions cached for the number are invalidated (and again when <see cref="ConsentChanged"/> comes back through the
/// bus, in case Redis was away at that moment).
/// </summary>
public sealed partial class ConsentStore(
    NpgsqlDataSource dataSource,
    IOptions<ComplianceOptions> options,
    AuditLog audit,
    OutboxWriter outbox,
    DecisionCache decisions,
    TimeProvider timeProvider,
    ILogger<ConsentStore> logger)
{
    private readonly byte[] _subjectKey = options.Value.SubjectKeyBytes();

    /// <summary>The keyed hash a number is stored and announced under.</summary>
    public string HashOf(PhoneNumber number) => number.Hash(_subjectKey);

    /// <summary>Records the events for one number, in order, in one transaction.</summary>
    public async Task<IReadOnlyList<ConsentEventView>> RecordAsync(
        PhoneNumber number, IReadOnlyList<NewConsentEvent> events, string actor, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return [];
        }

        var hash = HashOf(number);
        var recorded = new List<ConsentEventView>(events.Count);
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var subject = await SubjectAsync(connection, transaction, number, hash, cancellationToken);
            foreach (var e in events)
            {
                var view = await InsertAsync(connection, transaction, subject, number, e, actor, cancellationToken);
                recorded.Add(view);
                await audit.AppendAsync(connection, transaction, new AuditRecord(
                    "consent." + e.Action,
                    actor,
                    subject.ToString(),
                    new Dictionary<string, object?>
                    {
                        ["consentEventId"] = view.Id,
                        ["type"] = e.Type,
                        ["jurisdiction"] = e.Jurisdiction,
                        ["method"] = e.Method,
                        ["purpose"] = e.Purpose,
                        ["expiresAt"] = e.ExpiresAt,
                    }), cancellationToken);
                await outbox.EnqueueAsync(connection, transaction, new ConsentChanged(
                    Guid.CreateVersion7(), view.RecordedAt, view.Id.ToString(), view.Id, hash, e.Type, e.Action, e.Jurisdiction, e.ExpiresAt),
                    cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        outbox.Notify();
        await decisions.InvalidateAsync(hash, cancellationToken);
        LogRecorded(logger, recorded.Count, number.Masked);
        return recorded;
    }

    /// <summary>
    /// Erases a number's subject (GDPR Art. 17): its given consents are first withdrawn (so that every decision and
    /// service learns of it through <c>ConsentChanged</c>, and the withdrawal is audited), then the subject and all its
    /// events are deleted; the audit entries keep only the subject's random id, which nothing links to the number any
    /// more. Returns the number of consent events deleted.
    /// </summary>
    public async Task<int> EraseAsync(PhoneNumber number, CancellationToken cancellationToken)
    {
        var given = await GivenTypesAsync(number, cancellationToken);
        if (given.Count > 0)
        {
            await RecordAsync(number, [.. given.Select(type => new NewConsentEvent(number, type, ConsentVocabulary.Withdrawn, "UNKNOWN",
                "data_subject_request", JsonSerializer.SerializeToElement(new Dictionary<string, string>()), "Erasure at the data subject's request", null))],
                "data-subject-request", cancellationToken);
        }

        int deleted;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            var subject = await FindSubjectAsync(connection, HashOf(number), cancellationToken);
            if (subject is null)
            {
                return 0;
            }

            await using (var count = new NpgsqlCommand("SELECT count(*) FROM consent_events WHERE subject_id = $1", connection, transaction))
            {
                count.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subject.Value });
                deleted = (int)(long)(await count.ExecuteScalarAsync(cancellationToken))!;
            }

            await using (var delete = new NpgsqlCommand("DELETE FROM subjects WHERE subject_id = $1", connection, transaction))
            {
                delete.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subject.Value });
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }

            await audit.AppendAsync(connection, transaction, new AuditRecord(
                "subject.erased", "data-subject-request", subject.Value.ToString(),
                new Dictionary<string, object?> { ["consentEventsDeleted"] = deleted }), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await decisions.InvalidateAsync(HashOf(number), cancellationToken);
        return deleted;
    }

    /// <summary>Every event and the current state per type, for a number; null if nothing was ever recorded for it.</summary>
    public async Task<ConsentState?> StateAsync(PhoneNumber number, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var subject = await FindSubjectAsync(connection, HashOf(number), cancellationToken);
        if (subject is null)
        {
            return null;
        }

        var events = new List<ConsentEventView>();
        await using (var command = new NpgsqlCommand(SelectEvents + " WHERE e.subject_id = $1 ORDER BY e.seq", connection))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subject.Value });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                events.Add(ReadEvent(reader));
            }
        }

        var now = timeProvider.GetUtcNow();
        var current = ConsentVocabulary.TypeList.Select(type =>
        {
            var newest = events.LastOrDefault(e => e.Type == type);
            return newest is null
                ? new ConsentStatus(type, "none", null, null, null)
                : new ConsentStatus(type, StatusOf(newest, now), newest.Id, newest.RecordedAt, newest.ExpiresAt);
        }).ToList();
        return new ConsentState(number.Masked, current, events);
    }

    /// <summary>One event, by id (for its receipt).</summary>
    public async Task<ConsentEventView?> EventAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(SelectEvents + " WHERE e.id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadEvent(reader) : null;
    }

    /// <summary>The types whose newest event for this number is <c>given</c> (expired or not).</summary>
    public async Task<IReadOnlyList<string>> GivenTypesAsync(PhoneNumber number, CancellationToken cancellationToken)
    {
        var state = await StateAsync(number, cancellationToken);
        return state is null ? [] : [.. state.Current.Where(c => c.Status == ConsentVocabulary.Given).Select(c => c.Type)];
    }

    /// <summary>The consent of <paramref name="type"/> in force now for the number with this hash, if any.</summary>
    public async Task<ActiveConsent?> ActiveAsync(string numberHash, string type, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT e.id, e.action, e.expires_at
            FROM consent_events e JOIN subjects s ON s.subject_id = e.subject_id
            WHERE s.number_hash = $1 AND e.consent_type = $2
            ORDER BY e.seq DESC
            LIMIT 1
            """;
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = numberHash });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = type });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken) || reader.GetString(1) != ConsentVocabulary.Given)
        {
            return null;
        }

        DateTimeOffset? expiresAt = await reader.IsDBNullAsync(2, cancellationToken) ? null : reader.GetFieldValue<DateTimeOffset>(2);
        return expiresAt is { } end && end <= timeProvider.GetUtcNow() ? null : new ActiveConsent(reader.GetGuid(0), expiresAt);
    }

    private static string StatusOf(ConsentEventView newest, DateTimeOffset now) =>
        newest.Action == ConsentVocabulary.Given && newest.ExpiresAt is { } end && end <= now ? ConsentVocabulary.Expired : newest.Action;

    private const string SelectEvents = """
        SELECT e.id, s.masked, e.consent_type, e.action, e.jurisdiction, e.method, e.evidence::text, e.purpose,
               e.expires_at, e.recorded_at, e.recorded_by
        FROM consent_events e JOIN subjects s ON s.subject_id = e.subject_id
        """;

    private static ConsentEventView ReadEvent(NpgsqlDataReader reader)
    {
        using var evidence = JsonDocument.Parse(reader.GetString(6));
        return new ConsentEventView(
            reader.GetGuid(0),
            reader.GetString(1),
            reader.GetString(2),
            reader.GetString(3),
            reader.GetString(4),
            reader.GetString(5),
            evidence.RootElement.Clone(),
            reader.GetString(7),
            reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8),
            reader.GetFieldValue<DateTimeOffset>(9),
            reader.GetString(10));
    }

    private static async Task<Guid?> FindSubjectAsync(NpgsqlConnection connection, string hash, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT subject_id FROM subjects WHERE number_hash = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = hash });
        return await command.ExecuteScalarAsync(cancellationToken) is Guid id ? id : null;
    }

    private async Task<Guid> SubjectAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, PhoneNumber number, string hash, CancellationToken cancellationToken)
    {
        // The no-op update makes RETURNING give the existing row's id when the number is known already.
        const string sql = """
            INSERT INTO subjects (subject_id, number_hash, masked, created_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (number_hash) DO UPDATE SET number_hash = EXCLUDED.number_hash
            RETURNING subject_id
            """;
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = Guid.NewGuid() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = hash });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = number.Masked });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = timeProvider.GetUtcNow() });
        return (Guid)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private async Task<ConsentEventView> InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid subject, PhoneNumber number, NewConsentEvent e, string actor,
        CancellationToken cancellationToken)
    {
        const string sql = """
            INSERT INTO consent_events (id, subject_id, consent_type, action, jurisdiction, method, evidence, purpose, expires_at, recorded_at, recorded_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            """;
        var id = Guid.CreateVersion7();
        var recordedAt = PostgresTime.Microseconds(timeProvider.GetUtcNow());
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = subject });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Type });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Action });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Jurisdiction });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Method });
        command.Parameters.Add(new NpgsqlParameter { Value = e.Evidence.GetRawText(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = e.Purpose });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)e.ExpiresAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = recordedAt });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = actor });
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new ConsentEventView(id, number.Masked, e.Type, e.Action, e.Jurisdiction, e.Method, e.Evidence.Clone(), e.Purpose, e.ExpiresAt, recordedAt, actor);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Recorded {Count} consent event(s) for {Number}")]
    private static partial void LogRecorded(ILogger logger, int count, string number);
}
