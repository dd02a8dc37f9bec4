using StackExchange.Redis;

namespace VoiceKraliki.ServiceDefaults.Redis;

/// <summary><see cref="IRedisStore"/> over StackExchange.Redis; connects lazily and reconnects by itself.</summary>
public sealed class RedisStore : IRedisStore, IDisposable
{
    private readonly Lazy<ConnectionMultiplexer> _connection;

    public RedisStore(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        // Start even when Redis is down; operations fail fast and /health reports it.
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = Math.Min(options.ConnectTimeout, 5000);
        options.SyncTimeout = Math.Min(options.SyncTimeout, 5000);
        options.ConnectRetry = Math.Max(options.ConnectRetry, 3);
        _connection = new Lazy<ConnectionMultiplexer>(() => ConnectionMultiplexer.Connect(options));
    }

    private IDatabase Database => _connection.Value.GetDatabase();

    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default) =>
        await Database.PingAsync().WaitAsync(cancellationToken);

    public async Task<bool> SetIfNotExistsAsync(string key, string value, TimeSpan expiry, CancellationToken cancellationToken = default) =>
        await Database.StringSetAsync(key, value, expiry, When.NotExists).WaitAsync(cancellationToken);

    public async Task<string?> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var value = await Database.StringGetAsync(key).WaitAsync(cancellationToken);
        return value.IsNull ? null : (string?)value;
    }

    public async Task SetAsync(string key, string value, TimeSpan? expiry = null, CancellationToken cancellationToken = default) =>
        await Database.StringSetAsync(key, value, expiry).WaitAsync(cancellationToken);

    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        await Database.KeyDeleteAsync(key).WaitAsync(cancellationToken);

    public async Task<long> IncrementAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        var transaction = Database.CreateTransaction();
        var increment = transaction.StringIncrementAsync(key);
        // Expire only a new key, so a fixed window is not extended by every hit.
        _ = transaction.KeyExpireAsync(key, expiry);
        await transaction.ExecuteAsync().WaitAsync(cancellationToken);
        var value = await increment;
        return value;
    }

    public async Task HashSetAsync(string key, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken = default) =>
        await Database.HashSetAsync(key, fields.Select(f => new HashEntry(f.Key, f.Value)).ToArray()).WaitAsync(cancellationToken);

    public async Task<IReadOnlyDictionary<string, string>> HashGetAllAsync(string key, CancellationToken cancellationToken = default)
    {
        var entries = await Database.HashGetAllAsync(key).WaitAsync(cancellationToken);
        return entries.ToDictionary(e => (string)e.Name!, e => (string)e.Value!, StringComparer.Ordinal);
    }

    public async Task<bool> SetAddAsync(string key, string member, CancellationToken cancellationToken = default) =>
        await Database.SetAddAsync(key, member).WaitAsync(cancellationToken);

    public async Task<bool> SetRemoveAsync(string key, string member, CancellationToken cancellationToken = default) =>
        await Database.SetRemoveAsync(key, member).WaitAsync(cancellationToken);

    public async Task<IReadOnlyList<string>> SetMembersAsync(string key, CancellationToken cancellationToken = default)
    {
        var members = await Database.SetMembersAsync(key).WaitAsync(cancellationToken);
        return members.Select(m => (string)m!).ToArray();
    }

    public async Task<long[]> EvaluateAsync(string script, string[] keys, long[] arguments, CancellationToken cancellationToken = default)
    {
        var redisKeys = Array.ConvertAll(keys, k => (RedisKey)k);
        var values = Array.ConvertAll(arguments, a => (RedisValue)a);
        var result = await Database.ScriptEvaluateAsync(script, redisKeys, values).WaitAsync(cancellationToken);
        return result.IsNull ? [] : (long[])result!;
    }

    public void Dispose()
    {
        if (_connection.IsValueCreated)
        {
            _connection.Value.Dispose();
        }
    }
}
