using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.Alerting.Rules;
using VoiceKraliki.Alerting.Signals;

namespace VoiceKraliki.Alerting.Lifecycle;

/// <summary>A rule in force and where it comes from: <c>default</c> (shipped), <c>file</c> (<c>Alerting:RulesFile</c>) or <c>api</c>.</summary>
public sealed record StoredRule(AlertRule Rule, string Source, string? UpdatedBy, DateTimeOffset? UpdatedAt);

/// <summary>
/// The rules in force: the shipped defaults, replaced by name by the rule file's, replaced by name by those written
/// through the API (kept in Postgres, shared by every replica). Deleting a default or file rule through the API leaves
/// a tombstone, so it does not come back at the next start. Names are unique ignoring case.
/// </summary>
public sealed class RuleStore(NpgsqlDataSource dataSource, IOptions<AlertingOptions> options, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new();

    private readonly Lazy<IReadOnlyList<StoredRule>> _configured = new(() => Configured(options.Value));
    private (DateTimeOffset At, IReadOnlyList<StoredRule> Rules) _cache = (DateTimeOffset.MinValue, []);

    /// <summary>The rules in force, read at most once every two seconds.</summary>
    public async Task<IReadOnlyList<StoredRule>> CurrentAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var cache = _cache;
        if (now - cache.At > TimeSpan.FromSeconds(2) || now < cache.At)
        {
            cache = (now, await LoadAsync(cancellationToken));
            _cache = cache;
        }

        return cache.Rules;
    }

    public async Task<StoredRule?> GetAsync(string name, CancellationToken cancellationToken) =>
        (await LoadAsync(cancellationToken)).FirstOrDefault(r => string.Equals(r.Rule.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Creates or replaces a rule (already validated); returns whether it replaced one in force.</summary>
    public async Task<bool> PutAsync(AlertRule rule, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var existed = await GetAsync(rule.Name!, cancellationToken) is not null;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var delete = new NpgsqlCommand("DELETE FROM alert_rules WHERE lower(name) = lower($1)", connection, transaction))
        {
            delete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = rule.Name! });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var insert = new NpgsqlCommand(
            "INSERT INTO alert_rules (name, definition, source, updated_by, updated_at, deleted) VALUES ($1, $2, 'api', $3, $4, false)", connection, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = rule.Name! });
            insert.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(rule with { UnknownFields = null }, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = by });
            insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        Invalidate();
        return existed;
    }

    /// <summary>Takes a rule out of force; false when there is no such rule.</summary>
    public async Task<bool> DeleteAsync(string name, string by, CancellationToken cancellationToken)
    {
        if (await GetAsync(name, cancellationToken) is not { } rule)
        {
            return false;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var delete = new NpgsqlCommand("DELETE FROM alert_rules WHERE lower(name) = lower($1)", connection, transaction))
        {
            delete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }

        if (_configured.Value.Any(r => string.Equals(r.Rule.Name, name, StringComparison.OrdinalIgnoreCase)))
        {
            await using var tombstone = new NpgsqlCommand(
                "INSERT INTO alert_rules (name, definition, source, updated_by, updated_at, deleted) VALUES ($1, '{}'::jsonb, 'api', $2, $3, true)", connection, transaction);
            tombstone.Parameters.Add(new NpgsqlParameter<string> { TypedValue = rule.Rule.Name! });
            tombstone.Parameters.Add(new NpgsqlParameter<string> { TypedValue = by });
            tombstone.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() });
            await tombstone.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        Invalidate();
        return true;
    }

    public void Invalidate() => _cache = (DateTimeOffset.MinValue, []);

    private async Task<IReadOnlyList<StoredRule>> LoadAsync(CancellationToken cancellationToken)
    {
        var rules = new Dictionary<string, StoredRule>(StringComparer.OrdinalIgnoreCase);
        foreach (var rule in _configured.Value)
        {
            rules[rule.Rule.Name!] = rule;
        }

        await using var select = dataSource.CreateCommand("SELECT name, definition, updated_by, updated_at, deleted FROM alert_rules ORDER BY name");
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var name = reader.GetString(0);
            if (reader.GetBoolean(4))
            {
                rules.Remove(name);
                continue;
            }

            var rule = JsonSerializer.Deserialize<AlertRule>(reader.GetString(1), Json)!;
            rules[name] = new StoredRule(rule, "api", reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3));
        }

        return [.. rules.Values.OrderBy(r => r.Rule.Name, StringComparer.OrdinalIgnoreCase)];
    }

    private static List<StoredRule> Configured(AlertingOptions options)
    {
        var rules = new Dictionary<string, StoredRule>(StringComparer.OrdinalIgnoreCase);
        foreach (var rule in DefaultRules.Load(SignalNames.All))
        {
            rules[rule.Name!] = new StoredRule(rule, "default", null, null);
        }

        if (options.RulesFile is { Length: > 0 } file)
        {
            // AlertingOptions validated the file at start; a file changed since is read as it is now, and must still be valid.
            if (!RuleValidator.TryParse(File.ReadAllText(file), SignalNames.All, out var fileRules, out var errors))
            {
                throw new InvalidOperationException($"{AlertingOptions.SectionName}:RulesFile {file}: {string.Join("; ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))}");
            }

            foreach (var rule in fileRules)
            {
                rules[rule.Name!] = new StoredRule(rule, "file", null, null);
            }
        }

        return [.. rules.Values];
    }
}
