using Microsoft.Extensions.Logging;
using Npgsql;

namespace VoiceKraliki.ServiceDefaults.Data;

/// <summary>
/// Leadership among a service's replicas through a Postgres session-level advisory lock: the replica whose session holds
/// the lock leads until that session ends (stop, crash, lost connection), when Postgres frees the lock and the next
/// replica to try takes it. Call <see cref="HoldAsync"/> on every round of the work only the leader does; it keeps or
/// takes the lock and says whether this replica leads now. Not thread-safe: one loop owns a lease.
/// </summary>
public sealed partial class LeaderLease(NpgsqlDataSource dataSource, long key, string name, ILogger logger) : IAsyncDisposable
{
    private NpgsqlConnection? _connection;

    /// <summary>Whether this replica held the lock at the last <see cref="HoldAsync"/>.</summary>
    public bool IsLeader => _connection is not null;

    /// <summary>Keeps the lock (checking its session is alive) or tries to take it; returns whether this replica leads.</summary>
    public async Task<bool> HoldAsync(CancellationToken cancellationToken)
    {
        if (_connection is not null)
        {
            try
            {
                await using var check = new NpgsqlCommand("SELECT 1", _connection);
                await check.ExecuteScalarAsync(cancellationToken);
                return true;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // The session, and with it the lock, is gone: another replica may lead already.
                LogLost(logger, name, ex.Message);
                await ReleaseAsync();
                return false;
            }
        }

        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var take = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
            take.Parameters.Add(new NpgsqlParameter<long> { TypedValue = key });
            if (await take.ExecuteScalarAsync(cancellationToken) is true)
            {
                _connection = connection;
                LogElected(logger, name);
                return true;
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return false;
    }

    /// <summary>Gives the lock up (the next replica to try takes it).</summary>
    public async Task ReleaseAsync()
    {
        if (_connection is not { } connection)
        {
            return;
        }

        _connection = null;
        try
        {
            // The lock belongs to the session, which outlives the connection's return to the pool: unlock first.
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", connection);
            await unlock.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The connection is broken: Postgres released the lock with the session.
        }

        await connection.DisposeAsync();
    }

    public ValueTask DisposeAsync() => new(ReleaseAsync());

    [LoggerMessage(Level = LogLevel.Information, Message = "This replica now leads {Lease}")]
    private static partial void LogElected(ILogger logger, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Lease} lease's connection failed ({Error}); standing down")]
    private static partial void LogLost(ILogger logger, string lease, string error);
}
