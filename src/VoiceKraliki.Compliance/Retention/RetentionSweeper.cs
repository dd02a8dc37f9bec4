using MassTransit;
using Microsoft.Extensions.Options;
using Npgsql;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.Compliance.Retention;

/// <summary>
/// Runs retention sweeps on one instance at a time. Every instance tries for a session-level Postgres advisory lock;
/// the one that holds it is the sweeper, until its connection goes (a crash, a restart, a lost network), when Postgres
/// releases the lock and the next instance to try takes over. The sweeper runs the scheduled sweep every
/// <see cref="RetentionSweepOptions.Interval"/>, the sweeps requested through the API, any sweep a previous sweeper
/// left unfinished, and publishes again what holders have not confirmed in time.
/// </summary>
public sealed partial class RetentionSweeper(
    NpgsqlDataSource dataSource,
    RetentionSweeps sweeps,
    MigrationRunner migrations,
    IOptions<RetentionSweepOptions> options,
    TimeProvider time,
    ILogger<RetentionSweeper> logger) : BackgroundService
{
    private const long LockKey = 0x564B_5245_5445_4E54; // "VKRETENT"

    private readonly SemaphoreSlim _wake = new(0, 1);
    private NpgsqlConnection? _lock;

    /// <summary>Whether this instance holds the sweeper's lock.</summary>
    public bool IsSweeper => _lock is not null;

    /// <summary>Ends the current wait at once (a sweep was requested on this instance).</summary>
    public void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await migrations.Completion.WaitAsync(stoppingToken);
            while (true)
            {
                try
                {
                    if (await HoldLockAsync(stoppingToken))
                    {
                        await SweepAsync(stoppingToken);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // Whatever failed, the loop goes on: a sweeper that stopped would leave retention unenforced.
                    LogTickFailed(logger, ex.Message);
                }

                using var delay = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                var timer = Task.Delay(options.Value.PollInterval, time, delay.Token);
                await Task.WhenAny(timer, _wake.WaitAsync(delay.Token));
                await delay.CancelAsync();
                stoppingToken.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: closing the connection below releases the lock for the next instance.
        }
        finally
        {
            await ReleaseAsync();
        }
    }

    /// <summary>Keeps or takes the lock; returns whether this instance is the sweeper now.</summary>
    private async Task<bool> HoldLockAsync(CancellationToken cancellationToken)
    {
        if (_lock is not null)
        {
            try
            {
                await using var check = new NpgsqlCommand("SELECT 1", _lock);
                await check.ExecuteScalarAsync(cancellationToken);
                return true;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // The session, and with it the lock, is gone: another instance may be the sweeper already.
                LogLockLost(logger, ex.Message);
                await ReleaseAsync();
                return false;
            }
        }

        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var take = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", connection);
            take.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LockKey });
            if (await take.ExecuteScalarAsync(cancellationToken) is true)
            {
                _lock = connection;
                LogElected(logger);
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

    private async Task SweepAsync(CancellationToken cancellationToken)
    {
        foreach (var id in await sweeps.PendingAsync(cancellationToken))
        {
            await sweeps.RunAsync(id, cancellationToken);
        }

        var last = await sweeps.LastScheduledAsync(cancellationToken);
        if (last is null || time.GetUtcNow() - last.Value >= options.Value.Interval)
        {
            await sweeps.RunScheduledAsync(cancellationToken);
        }

        await sweeps.RepublishUnconfirmedAsync(cancellationToken);
    }

    private async Task ReleaseAsync()
    {
        if (_lock is { } connection)
        {
            _lock = null;
            await DisposeConnectionAsync(connection);
        }
    }

    /// <summary>The lock belongs to the session, which outlives the connection's return to the pool: unlock first.</summary>
    private static async Task DisposeConnectionAsync(NpgsqlConnection connection)
    {
        try
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", connection);
            await unlock.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            // The connection is broken: Postgres has released the lock with the session.
        }

        await connection.DisposeAsync();
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "This instance is now the retention sweeper")]
    private static partial void LogElected(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The retention sweeper's lock connection failed ({Error}); standing down")]
    private static partial void LogLockLost(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention sweeper round failed ({Error}); retrying")]
    private static partial void LogTickFailed(ILogger logger, string error);
}

/// <summary>A holder's answer to a <see cref="RetentionExpired"/>: recorded and audited.</summary>
public sealed class RetentionEnforcedConsumer(RetentionSweeps sweeps) : IConsumer<RetentionEnforced>
{
    public Task Consume(ConsumeContext<RetentionEnforced> context) => sweeps.ConfirmAsync(context.Message, context.CancellationToken);
}
