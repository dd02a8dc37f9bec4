using VoiceKraliki.ServiceDefaults.Redis;

namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>
/// Whether one security layer uses Redis or its per-replica memory. A Redis call that fails or outlasts
/// the timeout switches the layer to memory; from then on no request waits for Redis: a background PING,
/// at most every <see cref="ProbeInterval"/>, switches it back once Redis answers in time.
/// </summary>
internal sealed partial class RedisFailover
{
    public static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(2);

    private readonly IRedisStore _redis;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _layer;
    private readonly TimeSpan _timeout;
    private int _usingFallback;
    private int _probing;
    private long _lastAttemptUtcTicks;

    // Until one call has succeeded the store may still have to connect, which it does synchronously
    // (for up to its connect timeout): such calls go to the thread pool so that the timeout holds.
    private volatile bool _connected;

    public RedisFailover(IRedisStore redis, TimeProvider time, ILogger logger, string layer, TimeSpan timeout)
    {
        _redis = redis;
        _time = time;
        _logger = logger;
        _layer = layer;
        _timeout = timeout;
    }

    public bool UsingFallback => Volatile.Read(ref _usingFallback) == 1;

    /// <summary>True when the caller should try Redis; false means use memory (and a probe may have been started).</summary>
    public bool ShouldUseRedis()
    {
        if (!UsingFallback)
        {
            return true;
        }

        ProbeIfDue();
        return false;
    }

    /// <summary>
    /// Runs <paramref name="operation"/> on Redis within the timeout. Any failure switches to memory and comes
    /// back as <c>Succeeded = false</c>; only the caller's own cancellation throws.
    /// </summary>
    public async ValueTask<RedisAttempt<T>> TryAsync<T>(Func<IRedisStore, CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        Task<T>? task = null;
        try
        {
            task = _connected
                ? operation(_redis, cancellationToken)
                : Task.Run(() => operation(_redis, cancellationToken), cancellationToken);
            var value = await task.WaitAsync(_timeout, _time, cancellationToken).ConfigureAwait(false);
            _connected = true;
            return new RedisAttempt<T>(true, value);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception)
        {
            Observe(task);
            SwitchToFallback(exception);
            return default;
        }
    }

    /// <summary>Starts a background probe if the layer is on memory and the last attempt is old enough.</summary>
    public void ProbeIfDue()
    {
        if (!UsingFallback || _time.GetUtcNow().UtcTicks - Volatile.Read(ref _lastAttemptUtcTicks) < ProbeInterval.Ticks)
        {
            return;
        }

        if (Interlocked.CompareExchange(ref _probing, 1, 0) != 0)
        {
            return;
        }

        Volatile.Write(ref _lastAttemptUtcTicks, _time.GetUtcNow().UtcTicks);
        _ = Task.Run(ProbeAsync);
    }

    private async Task ProbeAsync()
    {
        Task<TimeSpan>? ping = null;
        try
        {
            ping = Task.Run(() => _redis.PingAsync(CancellationToken.None));
            await ping.WaitAsync(_timeout, _time).ConfigureAwait(false);
            _connected = true;
            if (Interlocked.Exchange(ref _usingFallback, 0) == 1)
            {
                LogBackOnRedis(_logger, _layer);
            }
        }
        catch (Exception)
        {
            Observe(ping);
            Volatile.Write(ref _lastAttemptUtcTicks, _time.GetUtcNow().UtcTicks);
        }
        finally
        {
            Volatile.Write(ref _probing, 0);
        }
    }

    private void SwitchToFallback(Exception exception)
    {
        Volatile.Write(ref _lastAttemptUtcTicks, _time.GetUtcNow().UtcTicks);
        if (Interlocked.Exchange(ref _usingFallback, 1) == 0)
        {
            LogFellBack(_logger, _layer, exception.GetType().Name, exception.Message);
        }
    }

    /// <summary>An abandoned call that fails later must not surface as an unobserved task exception.</summary>
    private static void Observe(Task? task)
    {
        if (task is { IsCompleted: false })
        {
            _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        else
        {
            _ = task?.Exception;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "{Layer} fell back to per-replica memory: Redis unavailable ({ErrorType}: {ErrorMessage})")]
    private static partial void LogFellBack(ILogger logger, string layer, string errorType, string errorMessage);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Layer} back on Redis")]
    private static partial void LogBackOnRedis(ILogger logger, string layer);
}

internal readonly record struct RedisAttempt<T>(bool Succeeded, T Value);
