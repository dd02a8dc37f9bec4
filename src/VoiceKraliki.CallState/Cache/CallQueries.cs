using Microsoft.EntityFrameworkCore;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Cache;

/// <summary>The Postgres reads behind the fast tier: its fallback, and the source it is rebuilt from.</summary>
public sealed class CallQueries(IDbContextFactory<CallStateDbContext> contexts)
{
    /// <summary>A call and the version (newest <c>call_transitions.id</c>) its state has, read in one statement.</summary>
    public sealed record Versioned(CallView Call, long Version);

    /// <summary>
    /// The call whose provider call id is <paramref name="id"/>; else, of the calls with that session id, the
    /// earliest-created live one, or if none is live the earliest-created one.
    /// </summary>
    public async Task<CallView?> FindAsync(string id, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var call = await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.ProviderCallId == id, cancellationToken)
                   ?? await db.Calls.AsNoTracking()
                       .Where(c => c.SessionId == id)
                       .OrderBy(c => c.Status == CallStatus.Completed || c.Status == CallStatus.Failed)
                       .ThenBy(c => c.CreatedAt)
                       .ThenBy(c => c.ProviderCallId)
                       .FirstOrDefaultAsync(cancellationToken);
        return call is null ? null : CallView.Of(call);
    }

    /// <summary>Every live (not Completed or Failed) call, newest first.</summary>
    public async Task<IReadOnlyList<CallView>> LiveAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var calls = await db.Calls.AsNoTracking()
            .Where(c => c.Status != CallStatus.Completed && c.Status != CallStatus.Failed)
            .OrderByDescending(c => c.CreatedAt)
            .ThenByDescending(c => c.ProviderCallId)
            .ToListAsync(cancellationToken);
        return calls.ConvertAll(CallView.Of);
    }

    /// <summary>The live calls of each provider, counted.</summary>
    public async Task<IReadOnlyDictionary<TelephonyProvider, long>> LiveCountsAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var counts = await db.Calls.AsNoTracking()
            .Where(c => c.Status != CallStatus.Completed && c.Status != CallStatus.Failed)
            .GroupBy(c => c.Provider)
            .Select(g => new { Provider = g.Key, Count = g.LongCount() })
            .ToListAsync(cancellationToken);
        return Enum.GetValues<TelephonyProvider>().ToDictionary(p => p, p => counts.FirstOrDefault(c => c.Provider == p)?.Count ?? 0);
    }

    /// <summary>Every live call with its version.</summary>
    public async Task<IReadOnlyList<Versioned>> LiveWithVersionsAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await WithVersionsAsync(
            db, db.Calls.Where(c => c.Status != CallStatus.Completed && c.Status != CallStatus.Failed), cancellationToken);
    }

    /// <summary>These calls (those that exist) with their versions.</summary>
    public async Task<IReadOnlyList<Versioned>> WithVersionsAsync(IReadOnlyCollection<string> providerCallIds, CancellationToken cancellationToken)
    {
        if (providerCallIds.Count == 0)
        {
            return [];
        }

        var ids = providerCallIds.ToArray();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        return await WithVersionsAsync(db, db.Calls.Where(c => ids.Contains(c.ProviderCallId)), cancellationToken);
    }

    /// <summary>These calls (those that exist).</summary>
    public async Task<IReadOnlyList<CallView>> ByIdsAsync(IReadOnlyCollection<string> providerCallIds, CancellationToken cancellationToken)
    {
        if (providerCallIds.Count == 0)
        {
            return [];
        }

        var ids = providerCallIds.ToArray();
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var calls = await db.Calls.AsNoTracking().Where(c => ids.Contains(c.ProviderCallId)).ToListAsync(cancellationToken);
        return calls.ConvertAll(CallView.Of);
    }

    private static async Task<IReadOnlyList<Versioned>> WithVersionsAsync(
        CallStateDbContext db, IQueryable<CallRecord> calls, CancellationToken cancellationToken)
    {
        // One statement, so the row and its newest transition come from the same snapshot: a version must
        // never be paired with an older state than the one it stands for.
        var rows = await calls.AsNoTracking()
            .Select(c => new
            {
                Call = c,
                Version = db.CallTransitions.Where(t => t.CallId == c.ProviderCallId).Max(t => (long?)t.Id),
            })
            .ToListAsync(cancellationToken);
        return rows.ConvertAll(r => new Versioned(CallView.Of(r.Call), r.Version ?? 0));
    }
}
