using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.Alerting.Lifecycle;
using VoiceKraliki.Alerting.Notifications.Channels;

namespace VoiceKraliki.Alerting.Notifications;

/// <summary>A channel as the API shows it: its settings and the names of its secrets, never their values.</summary>
public sealed record ChannelView(
    Guid Id,
    string Name,
    string Type,
    IReadOnlyDictionary<string, string> Settings,
    IReadOnlyList<string> Secrets,
    int RatePerMinute,
    bool SendResolved,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>
/// Notification channels in Postgres. Secrets are sealed with AES-256-GCM under <c>Alerting:SecretKey</c> (a random
/// nonce per write, the channel id as associated data, so a sealed blob cannot be moved to another channel), opened
/// only to send.
/// </summary>
public sealed class ChannelStore(NpgsqlDataSource dataSource, IOptions<AlertingOptions> options, TimeProvider time)
{
    private const string Columns = "id, name, type, settings, secret_names, rate_per_minute, send_resolved, created_by, created_at, updated_at";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private (DateTimeOffset At, IReadOnlyList<ChannelConfig> Channels) _cache = (DateTimeOffset.MinValue, []);

    public async Task<ChannelView?> CreateAsync(ChannelConfig config, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var now = time.GetUtcNow();
        await using var insert = dataSource.CreateCommand($"""
            INSERT INTO channels (id, name, type, settings, sealed_secrets, secret_names, rate_per_minute, send_resolved, created_by, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
            ON CONFLICT (name) DO NOTHING
            RETURNING {Columns}
            """);
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = config.Id });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = config.Name });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = config.Type });
        insert.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(config.Settings, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Seal(config.Id, config.Secrets) });
        insert.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. config.Secrets.Keys.Order(StringComparer.Ordinal)] });
        insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = config.RatePerMinute });
        insert.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = config.SendResolved });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = by });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now });
        var view = await ReadOneAsync(insert, cancellationToken);
        Invalidate();
        return view;
    }

    /// <summary>Replaces a channel's configuration (its type cannot change); returns null when there is no such channel.</summary>
    public async Task<ChannelView?> UpdateAsync(ChannelConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        await using var update = dataSource.CreateCommand($"""
            UPDATE channels SET name = $2, settings = $3, sealed_secrets = $4, secret_names = $5, rate_per_minute = $6, send_resolved = $7, updated_at = $8
            WHERE id = $1
            RETURNING {Columns}
            """);
        update.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = config.Id });
        update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = config.Name });
        update.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(config.Settings, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        update.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Seal(config.Id, config.Secrets) });
        update.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. config.Secrets.Keys.Order(StringComparer.Ordinal)] });
        update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = config.RatePerMinute });
        update.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = config.SendResolved });
        update.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = time.GetUtcNow() });
        var view = await ReadOneAsync(update, cancellationToken);
        Invalidate();
        return view;
    }

    public async Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var delete = dataSource.CreateCommand("DELETE FROM channels WHERE id = $1");
        delete.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        var deleted = await delete.ExecuteNonQueryAsync(cancellationToken) > 0;
        Invalidate();
        return deleted;
    }

    public async Task<ChannelView?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand($"SELECT {Columns} FROM channels WHERE id = $1");
        select.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        return await ReadOneAsync(select, cancellationToken);
    }

    public async Task<IReadOnlyList<ChannelView>> ListAsync(CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand($"SELECT {Columns} FROM channels ORDER BY name");
        var views = new List<ChannelView>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            views.Add(Read(reader));
        }

        return views;
    }

    /// <summary>One channel with its secrets opened, to send to or to update; null when there is none.</summary>
    public async Task<ChannelConfig?> ConfigAsync(Guid id, CancellationToken cancellationToken) =>
        (await LoadConfigsAsync("WHERE id = $1", id, cancellationToken)).FirstOrDefault();

    /// <summary>Every channel with its secrets opened, read at most once every two seconds (the dispatcher's view).</summary>
    public async Task<IReadOnlyList<ChannelConfig>> ConfigsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var cache = _cache;
        if (now - cache.At > TimeSpan.FromSeconds(2) || now < cache.At)
        {
            cache = (now, await LoadConfigsAsync("", null, cancellationToken));
            _cache = cache;
        }

        return cache.Channels;
    }

    public void Invalidate() => _cache = (DateTimeOffset.MinValue, []);

    private async Task<IReadOnlyList<ChannelConfig>> LoadConfigsAsync(string where, Guid? id, CancellationToken cancellationToken)
    {
        await using var select = dataSource.CreateCommand(
            $"SELECT id, name, type, settings, sealed_secrets, rate_per_minute, send_resolved FROM channels {where} ORDER BY name");
        if (id is { } value)
        {
            select.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = value });
        }

        var configs = new List<ChannelConfig>();
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var channelId = reader.GetGuid(0);
            configs.Add(new ChannelConfig(
                channelId,
                reader.GetString(1),
                reader.GetString(2),
                JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(3), Json)!,
                Open(channelId, reader.GetFieldValue<byte[]>(4)),
                reader.GetInt32(5),
                reader.GetBoolean(6)));
        }

        return configs;
    }

    private byte[] Seal(Guid id, IReadOnlyDictionary<string, string> secrets)
    {
        var plain = JsonSerializer.SerializeToUtf8Bytes(secrets, Json);
        var sealedBytes = new byte[12 + 16 + plain.Length];
        var nonce = sealedBytes.AsSpan(0, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(options.Value.SecretKeyBytes, 16);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16), Encoding.UTF8.GetBytes(id.ToString("D")));
        return sealedBytes;
    }

    private IReadOnlyDictionary<string, string> Open(Guid id, byte[] sealedBytes)
    {
        var plain = new byte[sealedBytes.Length - 28];
        using var aes = new AesGcm(options.Value.SecretKeyBytes, 16);
        // A wrong key (Alerting:SecretKey changed) throws here: the channel's secrets must be written again.
        aes.Decrypt(sealedBytes.AsSpan(0, 12), sealedBytes.AsSpan(28), sealedBytes.AsSpan(12, 16), plain, Encoding.UTF8.GetBytes(id.ToString("D")));
        return JsonSerializer.Deserialize<Dictionary<string, string>>(plain, Json)!;
    }

    private static async Task<ChannelView?> ReadOneAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader) : null;
    }

    private static ChannelView Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0),
        reader.GetString(1),
        reader.GetString(2),
        JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(3), Json)!,
        reader.GetFieldValue<string[]>(4),
        reader.GetInt32(5),
        reader.GetBoolean(6),
        reader.GetString(7),
        reader.GetFieldValue<DateTimeOffset>(8),
        reader.GetFieldValue<DateTimeOffset>(9));
}
