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
    private readonly LeaderLease _lease = new(dataSource, LockKey, "retention sweeps", logger);

    /// <summary>Whether this instance holds the sweeper's lock.</summary>
    public bool IsSweeper => _lease.IsLeader;

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
                    if (await _lease.HoldAsync(stoppingToken))
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
            await _lease.ReleaseAsync();
        }
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

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention sweeper round failed ({Error}); retrying")]
    private static partial void LogTickFailed(ILogger logger, string error);
}

/// <summary>A holder's answer to a <see cref="RetentionExpired"/>: recorded and audited.</summary>
public sealed class RetentionEnforcedConsumer(RetentionSweeps sweeps) : IConsumer<RetentionEnforced>
{
    public Task Consume(ConsumeContext<RetentionEnforced> context) => sweeps.ConfirmAsync(context.Message, context.CancellationToken);
}
