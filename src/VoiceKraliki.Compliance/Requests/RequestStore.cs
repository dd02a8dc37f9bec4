using VoiceKraliki.Compliance.Extensions;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.Compliance.Audit;
using VoiceKraliki.Compliance.Consent;
using VoiceKraliki.Compliance.Regions;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;

namespace VoiceKraliki.Compliance.Requests;

/// <summary>A data-subject request and each service's part in it.</summary>
public sealed record SubjectRequestView(
    Guid Id,
    string Kind,
    string Number,
    string Status,
    DateTimeOffset RequestedAt,
    DateTimeOffset DueBy,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<SubjectRequestPart> Parts);

public sealed record SubjectRequestPart(string Service, DateTimeOffset? CompletedAt, int? Items);

/// <summary>
/// Data-subject requests in Postgres. Creating one writes the request, a part per service that must answer, its audit
/// entry and the <c>DataExportRequested</c>/<c>DataErasureRequested</c> in the outbox, in one transaction. Each
/// service's answer completes its part (once); the last one completes the request. When an erasure completes, nothing
/// here still holds the number: the request keeps only the masked form, and the published request event's number is
/// masked in the outbox too.
/// </summary>
public sealed partial class RequestStore(
    NpgsqlDataSource dataSource,
    ConsentStore consents,
    AuditLog audit,
    OutboxWriter outbox,
    IOptions<RequestOptions> options,
    TimeProvider timeProvider,
    ILogger<RequestStore> logger)
{
    public const string Export = "export";
    public const string Erasure = "erasure";

    public async Task<SubjectRequestView> CreateAsync(string kind, PhoneNumber number, string actor, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var services = kind == Erasure ? settings.ErasureServiceList : settings.ExportServiceList;
        var id = Guid.CreateVersion7();
        var eventId = Guid.CreateVersion7();
        var now = PostgresTime.Microseconds(timeProvider.GetUtcNow());
        var dueBy = now + settings.Deadline;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using (var insert = new NpgsqlCommand(
                "INSERT INTO subject_requests (id, kind, number_hash, masked, event_id, requested_by, requested_at, due_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                connection, transaction))
            {
                insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = kind });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = consents.HashOf(number) });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = number.Masked });
                insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = eventId });
                insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = actor });
                insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
                insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = dueBy });
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            foreach (var service in services)
            {
                await using var part = new NpgsqlCommand("INSERT INTO subject_request_parts (request_id, service) VALUES ($1, $2)", connection, transaction);
                part.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
                part.Parameters.Add(new NpgsqlParameter<string> { TypedValue = service });
                await part.ExecuteNonQueryAsync(cancellationToken);
            }

            await audit.AppendAsync(connection, transaction, Step(id, kind, "requested", actor,
                new Dictionary<string, object?> { ["services"] = services, ["dueBy"] = dueBy }), cancellationToken);
            if (kind == Erasure)
            {
                await outbox.EnqueueAsync(connection, transaction,
                    new DataErasureRequested(eventId, now, id.ToString(), id, number.Value, dueBy), cancellationToken);
            }
            else
            {
                await outbox.EnqueueAsync(connection, transaction,
                    new DataExportRequested(eventId, now, id.ToString(), id, number.Value, dueBy), cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        outbox.Notify();
        LogCreated(logger, kind, id, number.Masked);
        return (await GetAsync(id, cancellationToken))!;
    }

    public async Task<SubjectRequestView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ReadAsync(connection, null, id, cancellationToken);
    }

    /// <summary>The export bundle of a completed export: every service's part, as each sent it.</summary>
    public async Task<JsonElement?> BundleAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var request = await ReadAsync(connection, null, id, cancellationToken);
        if (request is null || request.Kind != Export || request.CompletedAt is null)
        {
            return null;
        }

        var parts = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand("SELECT service, content::text FROM subject_request_parts WHERE request_id = $1 ORDER BY service", connection))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                using var content = JsonDocument.Parse(reader.IsDBNull(1) ? "null" : reader.GetString(1));
                parts[reader.GetString(0)] = content.RootElement.Clone();
            }
        }

        return JsonSerializer.SerializeToElement(new
        {
            format = "voicekraliki-data-export/1",
            requestId = id,
            requestedAt = request.RequestedAt,
            completedAt = request.CompletedAt,
            services = parts,
        }, JsonSerializerOptions.Web);
    }

    /// <summary>
    /// Records one service's answer. Returns false when the request or the part is unknown or was answered before (a
    /// redelivery). The last answer completes the request.
    /// </summary>
    public async Task<bool> CompletePartAsync(Guid requestId, string service, int? items, string? contentJson, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var update = new NpgsqlCommand(
            "UPDATE subject_request_parts SET completed_at = $3, items = $4, content = $5 WHERE request_id = $1 AND service = $2 AND completed_at IS NULL",
            connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = requestId });
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = service });
            update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            update.Parameters.Add(new NpgsqlParameter { Value = (object?)items ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
            update.Parameters.Add(new NpgsqlParameter { Value = (object?)contentJson ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb });
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return false;
            }
        }

        // Serializes the last two answers of a request: exactly one of them sees nothing left.
        var request = (await ReadAsync(connection, transaction, requestId, cancellationToken, forUpdate: true))!;
        await audit.AppendAsync(connection, transaction, Step(requestId, request.Kind, "service-completed", service,
            new Dictionary<string, object?> { ["service"] = service, ["items"] = items }), cancellationToken);
        if (request.Parts.All(p => p.CompletedAt is not null))
        {
            await using (var complete = new NpgsqlCommand(
                "UPDATE subject_requests SET completed_at = $2, number_hash = CASE WHEN kind = 'erasure' THEN NULL ELSE number_hash END WHERE id = $1",
                connection, transaction))
            {
                complete.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = requestId });
                complete.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
                await complete.ExecuteNonQueryAsync(cancellationToken);
            }

            if (request.Kind == Erasure)
            {
                // The published request carried the number to the services; it has done its work.
                await using var redact = new NpgsqlCommand(
                    "UPDATE outbox_messages SET payload = jsonb_set(payload, '{phoneNumber}', to_jsonb($2::text)) WHERE id = (SELECT event_id FROM subject_requests WHERE id = $1) AND published_at IS NOT NULL",
                    connection, transaction);
                redact.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = requestId });
                redact.Parameters.Add(new NpgsqlParameter<string> { TypedValue = request.Number });
                await redact.ExecuteNonQueryAsync(cancellationToken);
            }

            await audit.AppendAsync(connection, transaction, Step(requestId, request.Kind, "completed", "compliance-service",
                new Dictionary<string, object?> { ["services"] = request.Parts.Select(p => p.Service).ToList() }), cancellationToken);
            LogCompleted(logger, request.Kind, requestId);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Reports (once each) the open requests that are this close to their deadline; returns how many.</summary>
    public async Task<int> ReportAtRiskAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var claimed = new List<(Guid Id, string Kind, DateTimeOffset DueBy)>();
        await using (var claim = new NpgsqlCommand(
            """
            UPDATE subject_requests SET at_risk_at = $1
            WHERE id IN (SELECT id FROM subject_requests WHERE completed_at IS NULL AND at_risk_at IS NULL AND due_by <= $2
                         ORDER BY due_by LIMIT 100 FOR UPDATE SKIP LOCKED)
            RETURNING id, kind, due_by
            """, connection, transaction))
        {
            claim.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
            claim.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now + options.Value.AtRiskBefore });
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                claimed.Add((reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)));
            }
        }

        foreach (var (id, kind, dueBy) in claimed)
        {
            var request = (await ReadAsync(connection, transaction, id, cancellationToken))!;
            var pending = request.Parts.Where(p => p.CompletedAt is null).Select(p => p.Service).ToList();
            await outbox.EnqueueAsync(connection, transaction,
                new DataSubjectRequestEndangered(Guid.CreateVersion7(), now, id.ToString(), id, kind, dueBy, pending), cancellationToken);
            await audit.AppendAsync(connection, transaction, Step(id, kind, "at-risk", "compliance-service",
                new Dictionary<string, object?> { ["pending"] = pending, ["dueBy"] = dueBy }), cancellationToken);
            LogAtRisk(logger, kind, id, dueBy, string.Join(", ", pending));
        }

        await transaction.CommitAsync(cancellationToken);
        if (claimed.Count > 0)
        {
            outbox.Notify();
        }

        return claimed.Count;
    }

    private static AuditRecord Step(Guid id, string kind, string step, string actor, Dictionary<string, object?> details)
    {
        details["requestId"] = id;
        details["kind"] = kind;
        details["step"] = step;
        return new AuditRecord(AuditKinds.RequestStep, actor, null, details);
    }

    private static async Task<SubjectRequestView?> ReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid id, CancellationToken cancellationToken, bool forUpdate = false)
    {
        string kind, masked;
        DateTimeOffset requestedAt, dueBy;
        DateTimeOffset? completedAt;
        await using (var command = new NpgsqlCommand(
            "SELECT kind, masked, requested_at, due_by, completed_at FROM subject_requests WHERE id = $1" + (forUpdate ? " FOR UPDATE" : ""),
            connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            (kind, masked, requestedAt, dueBy) = (reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3));
            completedAt = reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4);
        }

        var parts = new List<SubjectRequestPart>();
        await using (var command = new NpgsqlCommand(
            "SELECT service, completed_at, items FROM subject_request_parts WHERE request_id = $1 ORDER BY service", connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                parts.Add(new SubjectRequestPart(
                    reader.GetString(0),
                    reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
                    reader.IsDBNull(2) ? null : reader.GetInt32(2)));
            }
        }

        return new SubjectRequestView(id, kind, masked, completedAt is null ? "pending" : "completed", requestedAt, dueBy, completedAt, parts);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Data-subject {Kind} request {RequestId} created for {Number}")]
    private static partial void LogCreated(ILogger logger, string kind, Guid requestId, string number);

    [LoggerMessage(Level = LogLevel.Information, Message = "Data-subject {Kind} request {RequestId} completed by every service")]
    private static partial void LogCompleted(ILogger logger, string kind, Guid requestId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Data-subject {Kind} request {RequestId} is at risk: due {DueBy:O}, waiting for {Pending}")]
    private static partial void LogAtRisk(ILogger logger, string kind, Guid requestId, DateTimeOffset dueBy, string pending);
}
