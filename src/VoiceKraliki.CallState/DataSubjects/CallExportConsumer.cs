using System.Text.Json;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using VoiceKraliki.CallState.Calls;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.CallState.DataSubjects;

/// <summary>
/// Answers a data subject's access and portability request (GDPR Art. 15/20) with <see cref="DataExportCompleted"/>
/// for service <c>call-state</c>: every call with their number as <c>from</c> or <c>to</c>, each with its history, as
/// JSON (<see cref="CallExport"/>). The number is in the export on purpose: it is the subject's own data, going to them.
/// The answer's event id is derived from the request id, like the erasure's.
/// </summary>
public sealed partial class CallExportConsumer(
    IDbContextFactory<CallStateDbContext> contexts,
    MigrationRunner migrations,
    TimeProvider time,
    ILogger<CallExportConsumer> logger) : IConsumer<DataExportRequested>
{
    /// <summary>camelCase, enums by name (<c>Completed</c>, <c>NoAnswer</c>), as the call-state API writes them.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    public async Task Consume(ConsumeContext<DataExportRequested> context)
    {
        var e = context.Message;
        if (!SubjectNumber.IsE164(e.PhoneNumber))
        {
            LogNotE164(logger, e.RequestId);
            throw new ArgumentException($"Export request {e.RequestId}: the phone number is not E.164.", nameof(context));
        }

        await migrations.Completion.WaitAsync(context.CancellationToken);
        var export = await ExportAsync(e.PhoneNumber, context.CancellationToken);
        LogExported(logger, e.RequestId, export.Calls.Count);

        await context.Publish(
            new DataExportCompleted(
                SubjectNumber.CompletionEventId("data-export-completed", e.RequestId),
                time.GetUtcNow(),
                e.CorrelationId,
                e.RequestId,
                SubjectNumber.ServiceName,
                JsonSerializer.Serialize(export, JsonOptions)),
            context.CancellationToken);
    }

    private async Task<CallExport> ExportAsync(string number, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var address = SubjectNumber.AddressRegex(number);
        var calls = await db.Calls
            .FromSql($"SELECT * FROM calls WHERE from_number = {number} OR to_number = {number} OR from_number ~* {address} OR to_number ~* {address}")
            .AsNoTracking()
            .OrderBy(c => c.CreatedAt)
            .ThenBy(c => c.ProviderCallId)
            .ToListAsync(cancellationToken);
        var ids = calls.Select(c => c.ProviderCallId).ToArray();
        var transitions = (await db.CallTransitions.AsNoTracking()
                .Where(t => ids.Contains(t.CallId))
                .OrderBy(t => t.Id)
                .ToListAsync(cancellationToken))
            .ToLookup(t => t.CallId, StringComparer.Ordinal);

        return new CallExport(
            SubjectNumber.ServiceName,
            number,
            calls.ConvertAll(c => new ExportedCall(
                c.ProviderCallId,
                c.Provider,
                c.Direction,
                c.From,
                c.To,
                c.Status,
                c.EndReason,
                c.CreatedAt,
                c.AnsweredAt,
                c.EndedAt,
                [.. transitions[c.ProviderCallId].Select(t => new ExportedTransition(
                    t.EventType, t.FromStatus, t.ToStatus, t.EndReason, t.Outcome, t.IgnoredBecause, t.ProviderTime, t.ReceivedAt))])));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Export request {RequestId}: {Calls} call(s) exported")]
    private static partial void LogExported(ILogger logger, Guid requestId, int calls);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Export request {RequestId} names a number that is not E.164; it goes to the error queue")]
    private static partial void LogNotE164(ILogger logger, Guid requestId);
}

/// <summary>call-state's part of a data export (the <c>ContentJson</c> of <see cref="DataExportCompleted"/>).</summary>
public sealed record CallExport(string Service, string PhoneNumber, IReadOnlyList<ExportedCall> Calls);

/// <summary>One call of the subject's, as stored (times UTC).</summary>
public sealed record ExportedCall(
    string ProviderCallId,
    TelephonyProvider Provider,
    CallDirection Direction,
    string? From,
    string? To,
    CallStatus Status,
    CallEndReason EndReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset? AnsweredAt,
    DateTimeOffset? EndedAt,
    IReadOnlyList<ExportedTransition> History);

/// <summary>One event the call received: what it did to the call, or why it was ignored.</summary>
public sealed record ExportedTransition(
    string EventType,
    CallStatus? FromStatus,
    CallStatus ToStatus,
    CallEndReason EndReason,
    TransitionOutcome Outcome,
    string? IgnoredBecause,
    DateTimeOffset ProviderTime,
    DateTimeOffset ReceivedAt);
