using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.Compliance.Audit;
using VoiceKraliki.Compliance.Regions;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.Compliance.Retention;

/// <summary>The policies in force, per region, as the API and the audit log show them.</summary>
public sealed record EffectivePolicies(IReadOnlyDictionary<string, RegionPolicy> Regions, string Hash);

/// <summary>
/// The retention policies in force, and their audit: when the service starts with a policy set that differs from the
/// last one recorded, the new set is recorded and a <c>policy.changed</c> entry appended (under an advisory lock, so
/// replicas starting together audit it once).
/// </summary>
public sealed partial class PolicyRegistry(
    IOptions<RetentionOptions> options,
    NpgsqlDataSource dataSource,
    AuditLog audit,
    MigrationRunner migrations,
    TimeProvider timeProvider,
    ILogger<PolicyRegistry> logger) : BackgroundService
{
    private const long LockKey = 0x564B_504F_4C49_4359; // "VKPOLICY"

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public EffectivePolicies Current { get; } = Compute(options.Value);

    private static EffectivePolicies Compute(RetentionOptions options)
    {
        var regions = Enum.GetValues<Region>().ToDictionary(r => r.ToString(), options.For, StringComparer.Ordinal);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(regions.OrderBy(r => r.Key, StringComparer.Ordinal), Json))));
        return new EffectivePolicies(regions, hash);
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
                    await RecordAsync(stoppingToken);
                    return;
                }
                catch (NpgsqlException ex)
                {
                    LogRecordFailed(logger, ex.Message);
                    await Task.Delay(TimeSpan.FromSeconds(5), timeProvider, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping before the policies could be recorded: the next start records them.
        }
    }

    /// <summary>Records the current set if it is not the last one recorded; returns whether it did.</summary>
    internal async Task<bool> RecordAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LockKey });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var last = new NpgsqlCommand("SELECT hash FROM policy_versions ORDER BY seq DESC LIMIT 1", connection, transaction))
        {
            if (await last.ExecuteScalarAsync(cancellationToken) is string hash && hash == Current.Hash)
            {
                await transaction.CommitAsync(cancellationToken);
                return false;
            }
        }

        var json = JsonSerializer.Serialize(Current.Regions, Json);
        await using (var insert = new NpgsqlCommand("INSERT INTO policy_versions (hash, policies, applied_at) VALUES ($1, $2, $3)", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Current.Hash });
            insert.Parameters.Add(new NpgsqlParameter { Value = json, NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = timeProvider.GetUtcNow() });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await audit.AppendAsync(connection, transaction, new AuditRecord(
            AuditKinds.PolicyChanged, "compliance-service", null,
            new Dictionary<string, object?> { ["hash"] = Current.Hash, ["regions"] = Current.Regions }), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogRecorded(logger, Current.Hash);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention policies {Hash} recorded and audited")]
    private static partial void LogRecorded(ILogger logger, string hash);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention policies could not be recorded yet ({Error}); retrying")]
    private static partial void LogRecordFailed(ILogger logger, string error);
}
