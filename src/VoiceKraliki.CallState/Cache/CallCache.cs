using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using VoiceKraliki.CallState.Events;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Redis;

namespace VoiceKraliki.CallState.Cache;

/// <summary>
/// The Redis fast tier: after every commit, the call's snapshot, the live-call sets and the session maps (keys in
/// docs/call-state-api.md). Postgres stays the truth: reads come from Redis only while it is known to hold every
/// commit (rebuilt, and no write failed or was skipped since), else from Postgres. A failed Redis operation is
/// logged once, then Redis is skipped for <see cref="CallCacheOptions.SkipAfterFailure"/> so that events do not each
/// wait on it; <see cref="CallCacheMonitor"/> PINGs it and rebuilds it from Postgres once it answers.
/// </summary>
/// <remarks>
/// Commits of one call can finish their writes out of order (two consumers, two replicas). Each snapshot is written
/// under its version (the commit's <c>call_transitions.id</c>, which grows with commit order) and a Lua script moves
/// the call's version pointer and live-set membership only forward, so an older write never undoes a newer one.
/// Stuck-call detection changes a call without a transition: its flagged snapshot is written under the same
/// transition's next slot (<see cref="SnapshotVersion"/>), so the unflagged write of that commit, landing later, can
/// never hide the flag.
/// </remarks>
public sealed partial class CallCache(
    IRedisStore redis,
    CallQueries queries,
    IOptions<CallCacheOptions> options,
    TimeProvider timeProvider,
    ILogger<CallCache> logger) : ICallCommitObserver
{
    /// <summary><c>call-state:call:{providerCallId}</c>: the version of the call's newest snapshot.</summary>
    public const string VersionPrefix = "call-state:call:";

    /// <summary><c>call-state:snapshot:{providerCallId}:{version}</c>: the call as JSON (<see cref="CallView"/>).</summary>
    public const string SnapshotPrefix = "call-state:snapshot:";

    /// <summary><c>call-state:active:{provider}</c> (<c>twilio</c>, <c>telnyx</c>): set of the live calls' ids.</summary>
    public const string LivePrefix = "call-state:active:";

    /// <summary><c>call-state:session:{sessionId}</c>: set of the session's live calls' ids.</summary>
    public const string SessionPrefix = "call-state:session:";

    /// <summary><c>call-state:call-session:{providerCallId}</c>: the call's session id.</summary>
    public const string CallSessionPrefix = "call-state:call-session:";

    /// <summary>When the fast tier was last rebuilt; its absence means Redis lost its data.</summary>
    public const string RebuiltKey = "call-state:rebuilt-at";

    /// <summary>A snapshot whose version lost to a newer one, or whose script never ran, expires by itself.</summary>
    private static readonly TimeSpan UnclaimedSnapshotTtl = TimeSpan.FromMinutes(10);

    /// <summary>Writes done at once while rebuilding: pipelined on the one connection, bounded so a big rebuild does not flood it.</summary>
    private const int RebuildParallelism = 64;

    // KEYS: 1 version pointer, 2 this version's snapshot, 3 the provider's live set, [4 the session's live set,
    //       5 the call's session id]
    // ARGV: 1 version, 2 terminal (1/0), 3 TTL in seconds of an ended call's keys, 4 length of the pointer's prefix,
    //       [5 length of the session set's prefix]
    // The call id and the session id are the keys' suffixes: our store passes only integers as arguments.
    private const string WriteScript = """
        local current = redis.call('GET', KEYS[1])
        if current and tonumber(current) > tonumber(ARGV[1]) then
          redis.call('DEL', KEYS[2])
          return 0
        end
        if current and current ~= ARGV[1] then
          redis.call('DEL', string.sub(KEYS[2], 1, #KEYS[2] - #ARGV[1]) .. current)
        end
        local id = string.sub(KEYS[1], tonumber(ARGV[4]) + 1)
        local ended = ARGV[2] == '1'
        if ended then
          redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
          redis.call('EXPIRE', KEYS[2], ARGV[3])
          redis.call('SREM', KEYS[3], id)
        else
          redis.call('SET', KEYS[1], ARGV[1])
          redis.call('PERSIST', KEYS[2])
          redis.call('SADD', KEYS[3], id)
        end
        if #KEYS >= 5 then
          local session = string.sub(KEYS[4], tonumber(ARGV[5]) + 1)
          if ended then
            redis.call('SREM', KEYS[4], id)
            redis.call('SET', KEYS[5], session, 'EX', ARGV[3])
          else
            redis.call('SADD', KEYS[4], id)
            redis.call('SET', KEYS[5], session)
          end
        end
        return 1
        """;

    // KEYS: 1 version pointer, 2 the call's session id, 3.. each provider's live set
    // ARGV: 1 length of the pointer's prefix
    // The current snapshot goes with both slots of its transition (SnapshotVersion); any other snapshot of the call
    // was written with an expiry (UnclaimedSnapshotTtl, TerminalSnapshotTtl), as only a current one is persisted.
    // One script, so a reader finds the call's keys either all there or all gone.
    private const string ForgetScript = $$"""
        local id = string.sub(KEYS[1], tonumber(ARGV[1]) + 1)
        local removed = 0
        local current = redis.call('GET', KEYS[1])
        if current then
          local slot = tonumber(current) - tonumber(current) % 2
          removed = removed + redis.call('DEL',
            '{{SnapshotPrefix}}' .. id .. ':' .. string.format('%d', slot),
            '{{SnapshotPrefix}}' .. id .. ':' .. string.format('%d', slot + 1))
        end
        local session = redis.call('GET', KEYS[2])
        if session then
          removed = removed + redis.call('SREM', '{{SessionPrefix}}' .. session, id)
        end
        for i = 3, #KEYS do
          removed = removed + redis.call('SREM', KEYS[i], id)
        end
        return removed + redis.call('DEL', KEYS[2], KEYS[1])
        """;

    // KEYS: the rebuild marker, then each provider's live set.
    private const string StateScript = """
        local result = { redis.call('EXISTS', KEYS[1]) }
        for i = 2, #KEYS do
          result[i] = redis.call('SCARD', KEYS[i])
        end
        return result
        """;

    private static readonly TelephonyProvider[] Providers = Enum.GetValues<TelephonyProvider>();

    private readonly CallCacheOptions _options = options.Value;

    /// <summary>
    /// UTC ticks until which Redis is not tried. Until its first PING answers it is not tried at all: the connection
    /// is still being made then, and the rebuild that follows the PING writes whatever was committed before it.
    /// </summary>
    private long _skipUntil = long.MaxValue;

    /// <summary>Failed or skipped operations so far: a rebuild serves only if none happened while it ran.</summary>
    private long _failures;

    /// <summary>1 while Redis holds every commit, so reads may come from it.</summary>
    private int _serving;

    /// <summary>1 from a failure until the next successful PING: each change is logged once.</summary>
    private int _unavailable;

    /// <summary>What one probe saw: whether the fast tier was rebuilt since Redis last lost its data, and its live calls.</summary>
    public sealed record ProbeResult(bool Rebuilt, IReadOnlyDictionary<TelephonyProvider, long> LiveCalls);

    /// <summary>True while reads are answered from Redis.</summary>
    public bool IsServing => Volatile.Read(ref _serving) == 1 && !IsSkipping();

    public static string LiveKey(TelephonyProvider provider) => LivePrefix + DbEnum<TelephonyProvider>.ToDb(provider);

    public static string VersionKey(string providerCallId) => VersionPrefix + providerCallId;

    public static string SnapshotKey(string providerCallId, string version) => SnapshotPrefix + providerCallId + ":" + version;

    public Task CallCommittedAsync(CallCommitted committed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(committed);
        return WriteAsync(CallView.Of(committed.Decision.Next, committed.Metadata), committed.Version, cancellationToken);
    }

    /// <summary>Writes <paramref name="call"/> as of <paramref name="version"/>, or marks the fast tier stale; throws only when cancelled.</summary>
    public async Task WriteAsync(CallView call, long version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (IsSkipping())
        {
            MarkStale();
            return;
        }

        try
        {
            using var deadline = new Deadline(_options.WriteTimeout, timeProvider, cancellationToken);
            await WriteCoreAsync(call, version, deadline.Token);
        }
        catch (Exception ex)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                // Whether the write happened is unknown.
                MarkStale();
                throw;
            }

            ReportFailure("write", ex);
        }
    }

    /// <summary>Rewrites these calls from Postgres (after something other than an event changed them).</summary>
    public async Task RefreshAsync(IReadOnlyCollection<string> providerCallIds, CancellationToken cancellationToken)
    {
        foreach (var (call, version) in await queries.WithVersionsAsync(providerCallIds, cancellationToken))
        {
            await WriteAsync(call, version, cancellationToken);
        }
    }

    /// <summary>
    /// Removes every key the fast tier keeps for the call (its snapshot, version pointer, live-set and session
    /// entries) because the call no longer exists in Postgres. Unlike a write it is never skipped and never
    /// swallows a failure: a Redis error or timeout is reported (reads go to Postgres until the fast tier is rebuilt)
    /// and rethrown, so that the caller retries rather than reports the call gone while Redis still holds a copy.
    /// Returns how many keys and set entries went (0 when Redis held nothing of the call).
    /// </summary>
    public async Task<long> ForgetAsync(string providerCallId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(providerCallId);
        try
        {
            using var deadline = new Deadline(_options.WriteTimeout, timeProvider, cancellationToken);
            var removed = await redis.EvaluateAsync(
                ForgetScript,
                [VersionKey(providerCallId), CallSessionPrefix + providerCallId, .. Providers.Select(LiveKey)],
                [VersionPrefix.Length],
                deadline.Token);
            return removed.Length > 0 ? removed[0] : 0;
        }
        catch (Exception ex)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                // Whether the keys went is unknown.
                MarkStale();
            }
            else
            {
                ReportFailure("forget", ex);
            }

            throw;
        }
    }

    /// <summary>The call <paramref name="id"/> names (provider call id or session id; see <see cref="CallQueries.FindAsync"/>).</summary>
    /// <remarks>
    /// Redis answers only by provider call id: a session id may also be the provider call id of a call that ended
    /// long enough ago to have left Redis (a Twilio parent call), and only Postgres can tell.
    /// </remarks>
    public async Task<CallView?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (IsServing)
        {
            try
            {
                using var deadline = new Deadline(_options.ReadTimeout, timeProvider, cancellationToken);
                if (await ReadSnapshotAsync(id, deadline.Token) is { } cached)
                {
                    return cached;
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                ReportFailure("read", ex);
            }
        }

        return await queries.FindAsync(id, cancellationToken);
    }

    /// <summary>Every live call, newest first.</summary>
    public async Task<IReadOnlyList<CallView>> LiveAsync(CancellationToken cancellationToken)
    {
        if (IsServing)
        {
            (List<CallView> Found, List<string> Missing)? cached = null;
            try
            {
                using var deadline = new Deadline(_options.ReadTimeout, timeProvider, cancellationToken);
                cached = await ReadLiveAsync(deadline.Token);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                ReportFailure("read", ex);
            }

            if (cached is { } result)
            {
                var (found, missing) = result;
                // A snapshot replaced between reading its version and reading it: that call from Postgres.
                found.AddRange(await queries.ByIdsAsync(missing, cancellationToken));
                // A call may have ended between reading the set and reading its snapshot.
                return found
                    .Where(c => CallView.IsLive(c.Status))
                    .OrderByDescending(c => c.CreatedAt)
                    .ThenByDescending(c => c.ProviderCallId, StringComparer.Ordinal)
                    .ToList();
            }
        }

        return await queries.LiveAsync(cancellationToken);
    }

    /// <summary>PINGs Redis and reads the rebuild marker and the live-set sizes; throws when Redis does not answer in time.</summary>
    public async Task<ProbeResult> ProbeAsync(CancellationToken cancellationToken)
    {
        using var deadline = new Deadline(_options.ReadTimeout, timeProvider, cancellationToken);
        await redis.PingAsync(deadline.Token);
        var state = await redis.EvaluateAsync(StateScript, [RebuiltKey, .. Providers.Select(LiveKey)], [], deadline.Token);
        var live = Providers.Select((p, i) => (p, Count: state.Length > i + 1 ? state[i + 1] : 0)).ToDictionary(x => x.p, x => x.Count);
        return new ProbeResult(state.Length > 0 && state[0] == 1, live);
    }

    /// <summary>Redis answered: try it again at once (and say so, if it had failed).</summary>
    public void ReportReachable()
    {
        Volatile.Write(ref _skipUntil, 0);
        if (Interlocked.Exchange(ref _unavailable, 0) == 1)
        {
            LogReachable(logger);
        }
    }

    /// <summary>A Redis operation failed: serve from Postgres, skip Redis for a while, log it if it is news.</summary>
    public void ReportFailure(string operation, Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        MarkStale();
        Volatile.Write(ref _skipUntil, (timeProvider.GetUtcNow() + _options.SkipAfterFailure).UtcTicks);
        if (Interlocked.Exchange(ref _unavailable, 1) == 0)
        {
            // Our deadline cancels the wait; "a task was canceled" would hide that Redis was too slow.
            var (error, message) = exception is OperationCanceledException
                ? ("Timeout", "no answer in time")
                : (exception.GetType().Name, exception.Message);
            LogUnavailable(logger, operation, error, message, _options.SkipAfterFailure.TotalMilliseconds);
        }
    }

    /// <summary>
    /// Makes Redis match Postgres: every live call written at its current version, and every call Redis still lists
    /// as live that is not (it ended while Redis was away) written as ended. Returns the number of live calls.
    /// Reads come from Redis afterwards only if no operation failed meanwhile.
    /// </summary>
    public async Task<int> RebuildAsync(CancellationToken cancellationToken)
    {
        // Not served while being rebuilt; served afterwards only if nothing failed meanwhile.
        MarkStale();
        var failuresBefore = Interlocked.Read(ref _failures);
        var live = await queries.LiveWithVersionsAsync(cancellationToken);
        await WriteAllAsync(live, cancellationToken);

        var liveIds = live.Select(c => c.Call.ProviderCallId).ToHashSet(StringComparer.Ordinal);
        var listed = new Dictionary<string, TelephonyProvider>(StringComparer.Ordinal);
        foreach (var provider in Providers)
        {
            using var deadline = new Deadline(_options.ReadTimeout, timeProvider, cancellationToken);
            foreach (var id in await redis.SetMembersAsync(LiveKey(provider), deadline.Token))
            {
                listed[id] = provider;
            }
        }

        var stale = listed.Keys.Where(id => !liveIds.Contains(id)).ToList();
        if (stale.Count > 0)
        {
            // Read now, so a call that started after the query above is written live, not dropped.
            var current = await queries.WithVersionsAsync(stale, cancellationToken);
            await WriteAllAsync(current, cancellationToken);
            foreach (var gone in stale.Except(current.Select(c => c.Call.ProviderCallId), StringComparer.Ordinal))
            {
                using var deadline = new Deadline(_options.WriteTimeout, timeProvider, cancellationToken);
                await redis.SetRemoveAsync(LiveKey(listed[gone]), gone, deadline.Token);
                await redis.DeleteAsync(VersionKey(gone), deadline.Token);
            }
        }

        using (var deadline = new Deadline(_options.WriteTimeout, timeProvider, cancellationToken))
        {
            await redis.SetAsync(RebuiltKey, timeProvider.GetUtcNow().ToString("O", CultureInfo.InvariantCulture), null, deadline.Token);
        }

        if (Interlocked.Read(ref _failures) == failuresBefore)
        {
            Volatile.Write(ref _serving, 1);
        }

        return live.Count;
    }

    private async Task WriteAllAsync(IReadOnlyList<CallQueries.Versioned> calls, CancellationToken cancellationToken)
    {
        foreach (var chunk in calls.Chunk(RebuildParallelism))
        {
            await Task.WhenAll(chunk.Select(async c =>
            {
                using var deadline = new Deadline(_options.WriteTimeout, timeProvider, cancellationToken);
                await WriteCoreAsync(c.Call, c.Version, deadline.Token);
            }));
        }
    }

    /// <summary>
    /// The version a snapshot is kept under: two slots per transition, the flagged one after the unflagged one. A
    /// flag is only ever added within a transition (the next transition is a new state, unflagged, and larger).
    /// </summary>
    public static long SnapshotVersion(CallView call, long transitionVersion) =>
        transitionVersion * 2 + (call.StuckSince is null ? 0 : 1);

    private async Task WriteCoreAsync(CallView call, long transitionVersion, CancellationToken cancellationToken)
    {
        var version = SnapshotVersion(call, transitionVersion);
        var versionText = version.ToString(CultureInfo.InvariantCulture);
        var ended = !CallView.IsLive(call.Status);
        var snapshotKey = SnapshotKey(call.ProviderCallId, versionText);
        await redis.SetAsync(snapshotKey, JsonSerializer.Serialize(call, CallView.JsonOptions), ended ? _options.TerminalSnapshotTtl : UnclaimedSnapshotTtl, cancellationToken);

        string[] keys = string.IsNullOrEmpty(call.SessionId)
            ? [VersionKey(call.ProviderCallId), snapshotKey, LiveKey(call.Provider)]
            : [VersionKey(call.ProviderCallId), snapshotKey, LiveKey(call.Provider), SessionPrefix + call.SessionId, CallSessionPrefix + call.ProviderCallId];
        long[] arguments =
        [
            version,
            ended ? 1 : 0,
            (long)Math.Ceiling(_options.TerminalSnapshotTtl.TotalSeconds),
            VersionPrefix.Length,
            SessionPrefix.Length,
        ];
        await redis.EvaluateAsync(WriteScript, keys, arguments, cancellationToken);
    }

    private async Task<CallView?> ReadSnapshotAsync(string providerCallId, CancellationToken cancellationToken)
    {
        var version = await redis.GetAsync(VersionKey(providerCallId), cancellationToken);
        if (version is null)
        {
            return null;
        }

        // Null when a newer version replaced it between the two reads: Postgres answers instead.
        var json = await redis.GetAsync(SnapshotKey(providerCallId, version), cancellationToken);
        return json is null ? null : JsonSerializer.Deserialize<CallView>(json, CallView.JsonOptions);
    }

    private async Task<(List<CallView> Found, List<string> Missing)> ReadLiveAsync(CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        foreach (var provider in Providers)
        {
            ids.AddRange(await redis.SetMembersAsync(LiveKey(provider), cancellationToken));
        }

        var found = new List<CallView>(ids.Count);
        var missing = new List<string>();
        foreach (var chunk in ids.Chunk(RebuildParallelism))
        {
            var snapshots = await Task.WhenAll(chunk.Select(id => ReadSnapshotAsync(id, cancellationToken)));
            for (var i = 0; i < chunk.Length; i++)
            {
                if (snapshots[i] is { } call)
                {
                    found.Add(call);
                }
                else
                {
                    missing.Add(chunk[i]);
                }
            }
        }

        return (found, missing);
    }

    private bool IsSkipping() => timeProvider.GetUtcNow().UtcTicks < Volatile.Read(ref _skipUntil);

    private void MarkStale()
    {
        Interlocked.Increment(ref _failures);
        Volatile.Write(ref _serving, 0);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis fast tier unavailable ({Operation} failed: {Error}: {Message}); calls are served from Postgres and Redis is skipped for {SkipMs} ms after each failure until it answers PING, then rebuilt")]
    private static partial void LogUnavailable(ILogger logger, string operation, string error, string message, double skipMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis fast tier reachable again; rebuilding it from Postgres")]
    private static partial void LogReachable(ILogger logger);

    /// <summary>A token cancelled by the caller or after a timeout on our clock.</summary>
    private sealed class Deadline : IDisposable
    {
        private readonly CancellationTokenSource _timeout;
        private readonly CancellationTokenSource _linked;

        public Deadline(TimeSpan timeout, TimeProvider timeProvider, CancellationToken cancellationToken)
        {
            _timeout = new CancellationTokenSource(timeout, timeProvider);
            _linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _timeout.Token);
        }

        public CancellationToken Token => _linked.Token;

        public void Dispose()
        {
            _linked.Dispose();
            _timeout.Dispose();
        }
    }
}
