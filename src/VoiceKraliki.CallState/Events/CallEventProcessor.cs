using System.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using VoiceKraliki.CallState.Calls;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;

namespace VoiceKraliki.CallState.Events;

public enum CallEventOutcome
{
    /// <summary>The call moved; a <see cref="CallStateChanged"/> is in the outbox.</summary>
    Applied,

    /// <summary>Recorded in <c>call_transitions</c> with the reason; the status did not move.</summary>
    Ignored,

    /// <summary>This event was processed before: nothing was written.</summary>
    Duplicate,
}

public sealed record CallEventResult(CallEventOutcome Outcome, TransitionDecision? Decision);

/// <summary>What one committed event did, for the work that follows a commit (the Redis fast tier, metrics).</summary>
/// <param name="Metadata">The call's <c>metadata</c> JSON as committed.</param>
/// <param name="Version">
/// The id of the event's <c>call_transitions</c> row: assigned under the call's row lock, so within a call a later
/// commit always has a larger one (the fast tier keeps the newest snapshot by it).
/// </param>
public sealed record CallCommitted(CallEventReceived Event, TransitionDecision Decision, string Metadata, long Version, DateTimeOffset CommittedAt);

/// <summary>
/// Told about every committed event (applied or ignored; never a duplicate), after the commit. It must not throw:
/// the event is committed whatever it does, so a failure here is its own to log and repair.
/// </summary>
public interface ICallCommitObserver
{
    Task CallCommittedAsync(CallCommitted committed, CancellationToken cancellationToken);
}

/// <summary>
/// Applies one <see cref="CallEventReceived"/> exactly once. In one transaction: claim the event in the inbox
/// (a redelivery stops there), lock the call's row (or create it), let <see cref="CallStateMachine"/> decide,
/// update the call, record the transition, and when the call moved put a <see cref="CallStateChanged"/> in the
/// outbox. Nothing of it is visible until all of it is.
/// </summary>
public sealed partial class CallEventProcessor(
    IDbContextFactory<CallStateDbContext> contexts,
    OutboxWriter outbox,
    MigrationRunner migrations,
    TimeProvider timeProvider,
    IEnumerable<ICallCommitObserver> commitObservers,
    ILogger<CallEventProcessor> logger)
{
    /// <summary>This handler's name in <c>inbox_messages</c>.</summary>
    public const string InboxConsumer = "call-state.call-event-received";

    // Conflicts are short (two events of one call, or the first events of a new call, at the same moment):
    // a few quick retries here, and MassTransit's retries and _error queue behind them.
    private const int MaxAttempts = 6;

    public async Task<CallEventResult> ProcessAsync(CallEventReceived callEvent, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(callEvent);
        ArgumentException.ThrowIfNullOrEmpty(callEvent.ProviderCallId, nameof(callEvent));

        // An event that arrives while the schema is still being migrated waits instead of failing.
        await migrations.Completion.WaitAsync(cancellationToken);

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var (result, committed) = await ProcessOnceAsync(callEvent, cancellationToken);
                if (result.Outcome == CallEventOutcome.Applied)
                {
                    outbox.Notify();
                }

                Log(result, callEvent);
                if (committed is not null)
                {
                    await NotifyCommittedAsync(committed, cancellationToken);
                }

                return result;
            }
            catch (Exception ex) when (attempt < MaxAttempts && IsConflict(ex, out var sqlState))
            {
                LogConflict(logger, callEvent.EventId, callEvent.ProviderCallId, sqlState, attempt);
                var backoff = TimeSpan.FromMilliseconds((5 << attempt) + Random.Shared.Next(0, 10));
                await Task.Delay(backoff, timeProvider, cancellationToken);
            }
        }
    }

    private async Task<(CallEventResult Result, CallCommitted? Committed)> ProcessOnceAsync(CallEventReceived e, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        // All or nothing: a failure rolls the whole transaction back, so SaveChanges needs no savepoint of its
        // own (two round trips saved per event).
        db.Database.AutoSavepointsEnabled = false;
        await using var transaction = await db.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var now = timeProvider.GetUtcNow();

        // A concurrent delivery of the same event waits here on the uncommitted key, then finds it taken.
        var claimed = await db.Database.ExecuteSqlAsync(
            $"INSERT INTO inbox_messages (event_id, consumer, processed_at) VALUES ({e.EventId}, {InboxConsumer}, {now}) ON CONFLICT DO NOTHING",
            cancellationToken);
        if (claimed == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return (new CallEventResult(CallEventOutcome.Duplicate, null), null);
        }

        var call = await LockCallAsync(db, e.ProviderCallId, cancellationToken);
        TransitionDecision decision;
        if (call is null)
        {
            decision = CallStateMachine.Decide(null, e);
            var created = CallRecord.FromSnapshot(decision.Next, CallMetadata.Merge(null, e, decision.Outcome == TransitionOutcome.Applied));
            if (!await TryInsertCallAsync(db, created, cancellationToken))
            {
                // Another event of this new call inserted it first (our insert waited for its commit): decide
                // again against what it wrote.
                call = await LockCallAsync(db, e.ProviderCallId, cancellationToken)
                       ?? throw new InvalidOperationException($"Call {e.ProviderCallId} conflicted on insert but cannot be read.");
                decision = Apply(call, e);
            }
        }
        else
        {
            decision = Apply(call, e);
        }

        var transition = new CallTransitionRecord
        {
            CallId = e.ProviderCallId,
            EventId = e.EventId,
            EventType = e.EventType,
            FromStatus = decision.From,
            ToStatus = decision.To,
            EndReason = decision.EndReason,
            Outcome = decision.Outcome,
            IgnoredBecause = decision.Outcome == TransitionOutcome.Ignored ? decision.IgnoredBecause ?? "unspecified" : null,
            Sequence = e.Sequence,
            ProviderTime = e.OccurredAt.ToUniversalTime(),
            ReceivedAt = e.ReceivedAt.ToUniversalTime(),
            CommittedAt = timeProvider.GetUtcNow(),
        };
        db.CallTransitions.Add(transition);

        if (decision.Outcome == TransitionOutcome.Applied)
        {
            db.OutboxMessages.Add(OutboxMessage.From(outbox.Create(ToStateChanged(e, decision), now)));
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var applied = decision.Outcome == TransitionOutcome.Applied;
        // A new call's metadata is what its insert wrote (Merge is deterministic); a known one's is on its record.
        var metadata = call?.Metadata ?? CallMetadata.Merge(null, e, applied);
        return (new CallEventResult(applied ? CallEventOutcome.Applied : CallEventOutcome.Ignored, decision),
            new CallCommitted(e, decision, metadata, transition.Id, transition.CommittedAt));
    }

    /// <summary>After the commit: an observer's failure is logged, never turned into a retry of a committed event.</summary>
    private async Task NotifyCommittedAsync(CallCommitted committed, CancellationToken cancellationToken)
    {
        foreach (var observer in commitObservers)
        {
            try
            {
                await observer.CallCommittedAsync(committed, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogObserverFailed(logger, observer.GetType().Name, committed.Event.EventId, committed.Event.ProviderCallId, ex);
            }
        }
    }

    private static TransitionDecision Apply(CallRecord call, CallEventReceived e)
    {
        var decision = CallStateMachine.Decide(call.ToSnapshot(), e);
        call.Update(decision.Next);
        call.Metadata = CallMetadata.Merge(call.Metadata, e, decision.Outcome == TransitionOutcome.Applied);
        return decision;
    }

    private static async Task<CallRecord?> LockCallAsync(CallStateDbContext db, string providerCallId, CancellationToken cancellationToken)
    {
        var rows = await db.Calls
            .FromSql($"SELECT * FROM calls WHERE provider_call_id = {providerCallId} FOR UPDATE")
            .AsTracking()
            .ToListAsync(cancellationToken);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>Inserts a new call unless one with its key exists (then returns false); the row stays locked by us.</summary>
    private static async Task<bool> TryInsertCallAsync(CallStateDbContext db, CallRecord c, CancellationToken cancellationToken)
    {
        var provider = DbEnum<TelephonyProvider>.ToDb(c.Provider);
        var direction = DbEnum<CallDirection>.ToDb(c.Direction);
        var status = DbEnum<CallStatus>.ToDb(c.Status);
        var endReason = DbEnum<CallEndReason>.ToDb(c.EndReason);
        var inserted = await db.Database.ExecuteSqlAsync(
            $"""
             INSERT INTO calls (provider_call_id, session_id, provider, direction, status, end_reason, from_number, to_number,
                                metadata, created_at, updated_at, answered_at, ended_at, last_sequence, last_provider_time,
                                applied_transitions)
             VALUES ({c.ProviderCallId}, {c.SessionId}, {provider}, {direction}, {status}, {endReason}, {c.From}, {c.To},
                     CAST({c.Metadata} AS jsonb), {c.CreatedAt}, {c.UpdatedAt}, {c.AnsweredAt}, {c.EndedAt}, {c.LastSequence},
                     {c.LastProviderTime}, {c.AppliedTransitions})
             ON CONFLICT (provider_call_id) DO NOTHING
             """,
            cancellationToken);
        return inserted == 1;
    }

    private static CallStateChanged ToStateChanged(CallEventReceived e, TransitionDecision decision)
    {
        var next = decision.Next;
        TimeSpan? duration = null;
        if (next.Status is CallStatus.Completed or CallStatus.Failed && next.EndedAt is { } ended)
        {
            // Talk time: a call that was never answered lasted zero.
            duration = next.AnsweredAt is { } answered && ended > answered ? ended - answered : TimeSpan.Zero;
        }

        return new CallStateChanged(
            Guid.CreateVersion7(),
            e.OccurredAt,
            next.ProviderCallId,
            next.Provider,
            next.ProviderCallId,
            decision.From,
            decision.To,
            decision.EndReason,
            next.Direction,
            e.EventId,
            duration);
    }

    private static bool IsConflict(Exception exception, out string sqlState)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.UniqueViolation } postgres)
            {
                sqlState = postgres.SqlState;
                return true;
            }
        }

        sqlState = string.Empty;
        return false;
    }

    private void Log(CallEventResult result, CallEventReceived e)
    {
        switch (result.Outcome)
        {
            case CallEventOutcome.Applied:
                LogApplied(logger, e.Provider, e.ProviderCallId, result.Decision!.From, result.Decision.To, e.EventType, e.EventId);
                break;
            case CallEventOutcome.Ignored:
                LogIgnored(logger, e.Provider, e.ProviderCallId, e.EventType, e.EventId, result.Decision!.IgnoredBecause);
                break;
            default:
                LogDuplicate(logger, e.EventId, e.ProviderCallId);
                break;
        }
    }

    // Phone numbers (From/To, raw fields) are never logged; the provider's call id is not personal data.
    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider} call {ProviderCallId}: {FromStatus} -> {ToStatus} on {EventType} (event {EventId})")]
    private static partial void LogApplied(ILogger logger, TelephonyProvider provider, string providerCallId, CallStatus? fromStatus, CallStatus toStatus, string eventType, Guid eventId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Provider} call {ProviderCallId}: {EventType} (event {EventId}) ignored: {IgnoredBecause}")]
    private static partial void LogIgnored(ILogger logger, TelephonyProvider provider, string providerCallId, string eventType, Guid eventId, string? ignoredBecause);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Event {EventId} of call {ProviderCallId} was already processed; redelivery ignored")]
    private static partial void LogDuplicate(ILogger logger, Guid eventId, string providerCallId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Observer} failed after event {EventId} of call {ProviderCallId} was committed")]
    private static partial void LogObserverFailed(ILogger logger, string observer, Guid eventId, string providerCallId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Event {EventId} of call {ProviderCallId} conflicted ({SqlState}) on attempt {Attempt}; retrying")]
    private static partial void LogConflict(ILogger logger, Guid eventId, string providerCallId, string sqlState, int attempt);
}
