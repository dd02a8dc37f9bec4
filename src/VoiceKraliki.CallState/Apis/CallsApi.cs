using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.CallState.Apis;

/// <summary>
/// <c>/api/calls</c> for operators (and admins): one call, a filtered keyset-paged list, a call's history, and the
/// live calls. One call and the live calls come from the Redis fast tier when it is current, else from Postgres;
/// the list and the history always from Postgres. docs/call-state-api.md describes the shapes.
/// </summary>
public static class CallsApi
{
    public static IEndpointRouteBuilder MapCallsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/calls")
            .RequireAuthorization(Policies.Operator)
            .WithTags("Calls")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("", ListCallsAsync)
            .WithName("ListCalls")
            .WithSummary("Calls, newest first, filtered and keyset-paged")
            .WithDescription("Pages on (createdAt, providerCallId): pass nextCursor back as cursor. A bad parameter is answered with a 400 that names it.");

        api.MapGet("/active", GetActiveCallsAsync)
            .WithName("GetActiveCalls")
            .WithSummary("The live calls (not completed or failed), newest first");

        api.MapGet("/{id}", GetCallAsync)
            .WithName("GetCall")
            .WithSummary("One call, by provider call id or session id")
            .WithDescription("A provider call id wins over a session id; of a session's calls, the earliest-created live one, or if none is live the earliest-created one.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/{id}/history", GetCallHistoryAsync)
            .WithName("GetCallHistory")
            .WithSummary("Every event recorded for a call, applied or ignored (with why), in commit order")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return endpoints;
    }

    internal static async Task<Results<Ok<CallView>, ProblemHttpResult>> GetCallAsync(string id, CallCache calls, CancellationToken cancellationToken)
    {
        var call = await calls.FindAsync(id, cancellationToken);
        return call is null ? CallNotFound(id) : TypedResults.Ok(call);
    }

    internal static async Task<Ok<ActiveCalls>> GetActiveCallsAsync(CallCache calls, CancellationToken cancellationToken)
    {
        var live = await calls.LiveAsync(cancellationToken);
        return TypedResults.Ok(new ActiveCalls(live.Count, live));
    }

    internal static async Task<Results<Ok<CallHistory>, ProblemHttpResult>> GetCallHistoryAsync(
        string id, CallQueries queries, CallStateDbContext db, CancellationToken cancellationToken)
    {
        if (await queries.FindAsync(id, cancellationToken) is not { } call)
        {
            return CallNotFound(id);
        }

        var transitions = await db.CallTransitions.AsNoTracking()
            .Where(t => t.CallId == call.ProviderCallId)
            .OrderBy(t => t.Id)
            .Select(t => new CallTransitionView(
                t.Id, t.EventId, t.EventType, t.Outcome, t.FromStatus, t.ToStatus, t.EndReason, t.IgnoredBecause,
                t.Sequence, t.ProviderTime, t.ReceivedAt, t.CommittedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new CallHistory(call.ProviderCallId, transitions));
    }

    internal static async Task<Results<Ok<CallPage>, ValidationProblem>> ListCallsAsync(
        [AsParameters] CallListParameters parameters, CallStateDbContext db, CancellationToken cancellationToken)
    {
        if (!parameters.TryParse(out var filter, out var errors))
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid query parameters");
        }

        var query = db.Calls.AsNoTracking();
        if (filter.Status is { } status)
        {
            query = query.Where(c => c.Status == status);
        }

        if (filter.Provider is { } provider)
        {
            query = query.Where(c => c.Provider == provider);
        }

        if (filter.Direction is { } direction)
        {
            query = query.Where(c => c.Direction == direction);
        }

        if (filter.From is { } from)
        {
            query = query.Where(c => c.From == from);
        }

        if (filter.To is { } to)
        {
            query = query.Where(c => c.To == to);
        }

        if (filter.Since is { } since)
        {
            query = query.Where(c => c.CreatedAt >= since);
        }

        if (filter.Until is { } until)
        {
            query = query.Where(c => c.CreatedAt < until);
        }

        if (filter.After is { } after)
        {
            var createdAt = after.CreatedAt;
            var providerCallId = after.ProviderCallId;
            // A row comparison, so Postgres walks the (…, created_at, provider_call_id) indexes from the cursor on.
            query = query.Where(c => EF.Functions.LessThan(
                ValueTuple.Create(c.CreatedAt, c.ProviderCallId), ValueTuple.Create(createdAt, providerCallId)));
        }

        // One more than a page tells whether there is a next one.
        var rows = await query
            .OrderByDescending(c => c.CreatedAt)
            .ThenByDescending(c => c.ProviderCallId)
            .Take(filter.Limit + 1)
            .ToListAsync(cancellationToken);
        var page = rows.Take(filter.Limit).Select(CallView.Of).ToList();
        var next = rows.Count > filter.Limit ? new CallCursor(rows[filter.Limit - 1].CreatedAt, rows[filter.Limit - 1].ProviderCallId).Encode() : null;
        return TypedResults.Ok(new CallPage(page, next));
    }

    private static ProblemHttpResult CallNotFound(string id) => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Call not found",
        detail: $"No call has the provider call id or session id '{(id.Length <= 128 ? id : id[..128] + "…")}'.");
}
