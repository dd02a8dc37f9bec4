using System.Text.Json;
using Microsoft.Extensions.Options;
using VoiceKraliki.Compliance.Consent;
using VoiceKraliki.ServiceDefaults.Redis;

namespace VoiceKraliki.Compliance.Decisions;

/// <summary>
/// Decisions in Redis, keyed by the purpose and each party's number hash <em>and consent generation</em>. A consent
/// change gives the number a new generation, so every decision cached for it stops being found at once, however
/// many there are and whatever replica cached them. A decision is read as: generations first, then Postgres, then
/// stored under the generations read; a change committed in between bumps a generation the stored entry is not under,
/// so a stale answer is never served. When Redis is unreachable, decisions are made without it.
/// </summary>
public sealed partial class DecisionCache(IRedisStore redis, IOptions<ComplianceOptions> options, ILogger<DecisionCache> logger)
{
    private const string GenerationPrefix = "compliance:consent-generation:";
    private const string DecisionPrefix = "compliance:decision:";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The key a decision for these parties is cached under now; null when Redis cannot be asked.</summary>
    public async Task<string?> KeyAsync(string purpose, string fromHash, string toHash, CancellationToken cancellationToken)
    {
        try
        {
            var fromGeneration = await redis.GetAsync(GenerationPrefix + fromHash, cancellationToken) ?? "0";
            var toGeneration = await redis.GetAsync(GenerationPrefix + toHash, cancellationToken) ?? "0";
            return $"{DecisionPrefix}{purpose}:{fromHash}:{fromGeneration}:{toHash}:{toGeneration}";
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogUnavailable(logger, ex.GetType().Name);
            return null;
        }
    }

    public async Task<Decision?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var json = await redis.GetAsync(key, cancellationToken);
            return json is null ? null : JsonSerializer.Deserialize<Decision>(json, Json);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogUnavailable(logger, ex.GetType().Name);
            return null;
        }
    }

    /// <summary>Stores a decision for at most <c>DecisionCacheTtl</c>, and never past the first consent it relies on ends.</summary>
    public async Task SetAsync(string key, Decision decision, CancellationToken cancellationToken)
    {
        var ttl = options.Value.DecisionCacheTtl;
        foreach (var end in decision.Parties.Select(p => p.ConsentExpiresAt).OfType<DateTimeOffset>())
        {
            var left = end - decision.DecidedAt;
            if (left < ttl)
            {
                ttl = left;
            }
        }

        if (ttl <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            await redis.SetAsync(key, JsonSerializer.Serialize(decision, Json), ttl, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogUnavailable(logger, ex.GetType().Name);
        }
    }

    /// <summary>
    /// Makes every decision cached for the number with this hash unreachable. Returns false when Redis could not be
    /// told (the <c>ConsentChanged</c> consumer then retries); <paramref name="throwOnFailure"/> throws instead.
    /// </summary>
    public async Task<bool> InvalidateAsync(string numberHash, CancellationToken cancellationToken, bool throwOnFailure = false)
    {
        try
        {
            // A fresh token, never a counter: a counter that expired and started again could meet an entry cached
            // under the same number before. The token outlives every entry stored under the previous one.
            var keep = options.Value.DecisionCacheTtl * 2 + TimeSpan.FromMinutes(1);
            var generation = Guid.NewGuid().ToString("N");
            await redis.SetAsync(GenerationPrefix + numberHash, generation, keep, cancellationToken);
            LogInvalidated(logger, generation);
            return true;
        }
        catch (Exception ex) when (!throwOnFailure && (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested))
        {
            LogInvalidationFailed(logger, ex.GetType().Name);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Decision cache unavailable ({Error}); deciding from Postgres")]
    private static partial void LogUnavailable(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Cached decisions invalidated (generation {Generation})")]
    private static partial void LogInvalidated(ILogger logger, string generation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cached decisions could not be invalidated ({Error}); the ConsentChanged consumer will retry")]
    private static partial void LogInvalidationFailed(ILogger logger, string error);
}
