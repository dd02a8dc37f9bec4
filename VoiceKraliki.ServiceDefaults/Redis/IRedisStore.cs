namespace VoiceKraliki.ServiceDefaults.Redis;

/// <summary>
/// The few Redis operations our services use. StackExchange.Redis 1.2.6 is the only client version
/// our package source restores, so it stays behind this interface and can be swapped.
/// </summary>
public interface IRedisStore
{
    Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default);

    /// <summary>Sets <paramref name="key"/> only if it does not exist; true when this call set it.</summary>
    Task<bool> SetIfNotExistsAsync(string key, string value, TimeSpan expiry, CancellationToken cancellationToken = default);

    Task<string?> GetAsync(string key, CancellationToken cancellationToken = default);

    Task SetAsync(string key, string value, TimeSpan? expiry = null, CancellationToken cancellationToken = default);

    Task<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Increments a counter, setting its expiry when it is created; returns the new value.</summary>
    Task<long> IncrementAsync(string key, TimeSpan expiry, CancellationToken cancellationToken = default);

    Task HashSetAsync(string key, IReadOnlyDictionary<string, string> fields, CancellationToken cancellationToken = default);

    Task<IReadOnlyDictionary<string, string>> HashGetAllAsync(string key, CancellationToken cancellationToken = default);

    Task<bool> SetAddAsync(string key, string member, CancellationToken cancellationToken = default);

    Task<bool> SetRemoveAsync(string key, string member, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<string>> SetMembersAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Runs a Lua script atomically (EVAL). The script must return an integer or an array of integers
    /// (a single integer comes back as a one-element array).
    /// </summary>
    Task<long[]> EvaluateAsync(string script, string[] keys, long[] arguments, CancellationToken cancellationToken = default);
}
