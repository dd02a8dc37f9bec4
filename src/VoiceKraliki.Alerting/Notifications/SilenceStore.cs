using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.Alerting.Model;

namespace VoiceKraliki.Alerting.Notifications;

/// <summary>
/// A silence: while active (<see cref="StartsAt"/> ≤ now &lt; <see cref="EndsAt"/>), alerts matching every matcher are
/// notified to nobody. Expiring a silence ends it now; it stays listed, as in Alertmanager.
/// </summary>
public sealed record Silence(
    Guid Id,
    IReadOnlyList<LabelMatcher> Matchers,
    DateTimeOffset StartsAt,
    DateTimeOffset EndsAt,
    string CreatedBy,
    string Comment,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public string Status(DateTimeOffset now) => now < StartsAt ? "pending" : now < EndsAt ? "active" : "expired";

    public bool IsActive(DateTimeOffset now) => StartsAt <= now && now < EndsAt;

    public bool Mutes(LabelSet labels) => Matchers.All(m => m.Matches(labels));
}

/// <summary>Silences in Postgres; every replica reads them (a short cache keeps the engine's reads cheap).</summary>
public sealed class SilenceStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private (DateTimeOffset At, IReadOnlyList<Silence> Silences) _cache = (DateTimeOffset.MinValue, []);

    public async Task<Silence> CreateAsync(IReadOnlyList<LabelMatcher> matchers, DateTimeOffset startsAt, DateTimeOffset endsAt, string by, string comment, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var silence = new Silence(Guid.CreateVersion7(), matchers, startsAt, endsAt, by, comment, now, now);
        await using var insert = dataSource.CreateCommand(
            "INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)");
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = silence.Id });
        insert.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(matchers, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = startsAt });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = endsAt });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = by });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = comment });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        await insert.ExecuteNonQueryAsync(cancellationToken);
        Invalidate();
        return silence;
    }

    /// <summary>Ends a silence now (if it has not ended); returns it, or null when there is none with that id.</summary>
    public async Task<Silence?> ExpireAsync(Guid id, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var update = dataSource.CreateCommand("""
            UPDATE silences SET ends_at = GREATEST(LEAST(ends_at, $2), starts_at + interval '1 microsecond'), updated_at = $2
            WHERE id = $1
            RETURNING id, matchers, starts_at, ends_at, created_by, comment, created_at, updated_at
            """);
        update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        await using var reader = await update.ExecuteReaderAsync(cancellationToken);
        var silence = await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
        Invalidate();
        return silence;
    }

    public async Task<Silence?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand("SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at, updated_at FROM silences WHERE id = $1");
        select.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    /// <summary>Silences that have not ended, plus those that ended within <paramref name="expiredWithin"/>, newest first.</summary>
    public async Task<IReadOnlyList<Silence>> ListAsync(TimeSpan expiredWithin, CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand(
            "SELECT id, matchers, starts_at, ends_at, created_by, comment, created_at, updated_at FROM silences WHERE ends_at > $1 ORDER BY id DESC LIMIT 1000");
        select.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() - expiredWithin });
        var silences = new List<Silence>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            silences.Add(Read(reader));
        }

        return silences;
    }

    /// <summary>The silences active now, read at most once a second.</summary>
    public async Task<IReadOnlyList<Silence>> ActiveAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var cache = _cache;
        if (now - cache.At > TimeSpan.FromSeconds(1) || now < cache.At)
        {
            cache = (now, await ListAsync(TimeSpan.Zero, cancellationToken));
            _cache = cache;
        }

        return [.. cache.Silences.Where(s => s.IsActive(now))];
    }

    /// <summary>Forgets the cached silences, so a change made on this replica applies at the next evaluation.</summary>
    public void Invalidate() => _cache = (DateTimeOffset.MinValue, []);

    private static Silence Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        JsonSerializer.Deserialize<List<LabelMatcher>>(reader.GetString(1), Json)!,
        reader.GetFieldValue<DateTimeOffset>(2),
        reader.GetFieldValue<DateTimeOffset>(3),
        reader.GetString(4),
        reader.GetString(5),
        reader.GetFieldValue<DateTimeOffset>(6),
        reader.GetFieldValue<DateTimeOffset>(7));
}
