using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace VoiceKraliki.ServiceDefaults.Data;

/// <summary>The hand-written SQL migrations embedded in a service's assembly.</summary>
/// <summary>
/// A service's migrations: its embedded <c>Migrations/*.sql</c>, plus any given in code (shared DDL such as the outbox
/// table, so that it is written once), all applied in the order of their ids.
/// </summary>
public sealed class MigrationSource(Assembly assembly, IReadOnlyList<Migration>? fromCode = null)
{
    public IReadOnlyList<Migration> Load()
    {
        var migrations = new List<Migration>(fromCode ?? []);
        foreach (var name in assembly.GetManifestResourceNames()
                     .Where(n => n.Contains(".Migrations.", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var id = name[(name.IndexOf(".Migrations.", StringComparison.Ordinal) + ".Migrations.".Length)..^".sql".Length];
            migrations.Add(Migration.Of(id, reader.ReadToEnd()));
        }

        var duplicate = migrations.GroupBy(m => m.Id, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two migrations have the id '{duplicate.Key}'.");
        }

        return [.. migrations.OrderBy(m => m.Id, StringComparer.Ordinal)];
    }
}

/// <summary>One migration. Its checksum is recorded when it runs: once applied, its SQL must never change.</summary>
public sealed record Migration(string Id, string Sql, string Checksum)
{
    public static Migration Of(string id, string sql) =>
        new(id, sql, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sql))).ToLowerInvariant());
}

/// <summary>
/// Applies migrations at start, retrying with backoff while the database is unreachable; the service
/// stays up (and not ready) meanwhile.
/// </summary>
public sealed partial class MigrationRunner(
    NpgsqlDataSource dataSource,
    MigrationSource source,
    ILogger<MigrationRunner> logger,
    TimeProvider timeProvider) : BackgroundService
{
    // An arbitrary constant; any migrator of any VoiceKraliki database takes the same lock.
    private const long AdvisoryLockKey = 0x564B_4D49_4752_4154; // "VKMIGRAT"

    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsCompleted => _completed.Task.IsCompletedSuccessfully;

    public string? LastError { get; private set; }

    public Task Completion => _completed.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(250);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var applied = await ApplyAsync(stoppingToken);
                LogCompleted(logger, applied);
                _completed.TrySetResult();
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                LastError = ex.Message;
                LogRetry(logger, ex, delay.TotalSeconds);
                await Task.Delay(delay, timeProvider, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    /// <summary>Applies what is missing and returns how many migrations ran.</summary>
    public async Task<int> ApplyAsync(CancellationToken cancellationToken)
    {
        var migrations = source.Load();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", AdvisoryLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            await using (var create = new NpgsqlCommand(
                             """
                             CREATE TABLE IF NOT EXISTS schema_migrations (
                                 id text PRIMARY KEY,
                                 checksum text NOT NULL,
                                 applied_at timestamptz NOT NULL DEFAULT now()
                             )
                             """, connection))
            {
                await create.ExecuteNonQueryAsync(cancellationToken);
            }

            var applied = new Dictionary<string, string>(StringComparer.Ordinal);
            await using (var query = new NpgsqlCommand("SELECT id, checksum FROM schema_migrations", connection))
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied[reader.GetString(0)] = reader.GetString(1);
                }
            }

            var count = 0;
            foreach (var migration in migrations)
            {
                if (applied.TryGetValue(migration.Id, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        // An applied migration was edited: the schema no longer matches the code.
                        throw new InvalidOperationException(
                            $"Migration {migration.Id} was changed after it was applied; add a new migration instead.");
                    }

                    continue;
                }

                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var apply = new NpgsqlCommand(migration.Sql, connection, transaction))
                {
                    await apply.ExecuteNonQueryAsync(cancellationToken);
                }

                await using (var record = new NpgsqlCommand(
                                 "INSERT INTO schema_migrations (id, checksum) VALUES (@id, @checksum)", connection, transaction))
                {
                    record.Parameters.AddWithValue("id", migration.Id);
                    record.Parameters.AddWithValue("checksum", migration.Checksum);
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                LogApplied(logger, migration.Id);
                count++;
            }

            return count;
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", AdvisoryLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {MigrationId}")]
    private static partial void LogApplied(ILogger logger, string migrationId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database schema is current ({AppliedCount} migrations applied now)")]
    private static partial void LogCompleted(ILogger logger, int appliedCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Migrations could not run yet; retrying in {DelaySeconds} s")]
    private static partial void LogRetry(ILogger logger, Exception exception, double delaySeconds);
}

internal sealed class MigrationHealthCheck(MigrationRunner runner) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(runner.IsCompleted
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy(runner.LastError is null ? "Migrations are running." : $"Migrations pending: {runner.LastError}"));
}
