using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>One try at a channel.</summary>
/// <param name="Number">1 for the first attempt.</param>
/// <param name="At">When it was sent.</param>
/// <param name="Duration">How long the channel took to answer.</param>
/// <param name="RetryAfter">The receiver's own <c>Retry-After</c>, when it gave one.</param>
/// <param name="Error">What went wrong, without secrets.</param>
public sealed record DeliveryAttempt(
    int Number,
    DateTimeOffset At,
    TimeSpan Duration,
    DeliveryOutcome Outcome,
    int? StatusCode,
    TimeSpan? RetryAfter,
    string? Error);

/// <summary>
/// How a delivery ended. <see cref="Outcome"/> is <see cref="DeliveryOutcome.Delivered"/>, <see cref="DeliveryOutcome.Failed"/>
/// (the receiver refused for good, or the configuration cannot be used), or <see cref="DeliveryOutcome.Retry"/>: the
/// receiver kept asking for later until the deadline passed, so the caller may try again at its next turn.
/// </summary>
/// <param name="StartedAt">When the delivery was asked for (before any wait for the rate limit).</param>
/// <param name="Elapsed">From <paramref name="StartedAt"/> to the end, rate-limit waits and backoffs included.</param>
/// <param name="Skipped">Nothing was sent because nothing was left to send (only resolved alerts, and the channel does not send resolved).</param>
public sealed record DeliveryReport(
    Guid ChannelId,
    string ChannelName,
    string ChannelType,
    DeliveryOutcome Outcome,
    IReadOnlyList<DeliveryAttempt> Attempts,
    DateTimeOffset StartedAt,
    TimeSpan Elapsed,
    string? Error,
    bool Skipped = false)
{
    public bool IsDelivered => Outcome == DeliveryOutcome.Delivered;
}

/// <summary>
/// Delivers one notification to one channel: finds the channel for its type, waits for the channel's rate limit, sends,
/// and retries what may pass — after exactly the receiver's <c>Retry-After</c> when it gives one (up to
/// <see cref="ChannelDeliveryOptions.MaxRetryAfter"/>), else after a jittered exponential backoff — until
/// <see cref="ChannelDeliveryOptions.DeliveryDeadline"/> after the first attempt. A final refusal stops at once. Every
/// delivery waits on its own (nothing shared is locked across a send), so a failing or slow channel never holds up
/// another. All waiting is on <see cref="TimeProvider"/>.
/// </summary>
public sealed class ChannelDelivery
{
    private readonly Dictionary<string, INotificationChannel> _channels;
    private readonly ChannelRateLimiter _rateLimiter;
    private readonly TimeProvider _time;
    private readonly IOptions<ChannelDeliveryOptions> _options;
    private readonly ILogger<ChannelDelivery> _logger;

    public ChannelDelivery(
        IEnumerable<INotificationChannel> channels,
        ChannelRateLimiter rateLimiter,
        TimeProvider time,
        IOptions<ChannelDeliveryOptions> options,
        ILogger<ChannelDelivery> logger)
    {
        _channels = channels.ToDictionary(c => c.Type, StringComparer.Ordinal);
        _rateLimiter = rateLimiter;
        _time = time;
        _options = options;
        _logger = logger;
    }

    /// <summary>The channel that sends to <paramref name="type"/>, for validating a configuration before it is stored.</summary>
    public INotificationChannel? Channel(string type) => _channels.GetValueOrDefault(type);

    /// <summary>What is wrong with <paramref name="config"/> (field → message), or nothing when it can be used.</summary>
    public IReadOnlyDictionary<string, string> Validate(ChannelConfig config) =>
        Channel(config.Type) is { } channel
            ? channel.Validate(config)
            : new Dictionary<string, string> { ["type"] = $"must be one of: {string.Join(", ", ChannelTypes.All)}." };

    public async Task<DeliveryReport> DeliverAsync(ChannelConfig config, Notification notification, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(notification);
        var options = _options.Value;
        var startedAt = _time.GetUtcNow();
        var started = _time.GetTimestamp();
        var attempts = new List<DeliveryAttempt>();

        DeliveryReport Report(DeliveryOutcome outcome, string? error, bool skipped = false) =>
            new(config.Id, config.Name, config.Type, outcome, attempts, startedAt, _time.GetElapsedTime(started), error, skipped);

        // What the API stores is checked in full there; a send only needs the type, settings and secrets. The rate is
        // how fast to go (the API's own "test this channel" sends at int.MaxValue a minute, and 0 means no limit).
        var problems = Validate(config).Where(p => p.Key is not "ratePerMinute" and not "name").ToArray();
        if (problems.Length > 0)
        {
            var error = "The channel's configuration cannot be used: " + string.Join("; ", problems.Select(p => $"{p.Key} {p.Value}"));
            ChannelLog.Failed(_logger, config.Type, config.Name, config.Id, 0, null, error);
            return Report(DeliveryOutcome.Failed, error);
        }

        var channel = _channels[config.Type];
        if (!config.SendResolved)
        {
            // As Alertmanager's send_resolved: false, the channel hears only of firing alerts.
            var firing = notification.Alerts.Where(a => a.Status == Notification.Firing).ToArray();
            if (firing.Length == 0)
            {
                return Report(DeliveryOutcome.Delivered, null, skipped: true);
            }

            notification = notification with { Alerts = firing, Status = Notification.Firing };
        }

        long? deadline = null;
        while (true)
        {
            var waited = await _rateLimiter.WaitAsync(config.Id, config.RatePerMinute, cancellationToken).ConfigureAwait(false);
            if (waited > TimeSpan.Zero)
            {
                ChannelLog.RateLimited(_logger, config.Type, config.Name, config.Id, waited.TotalMilliseconds);
            }

            // The deadline bounds retrying; waiting for the first turn is the rate limit's queue, bounded by the caller.
            deadline ??= _time.Plus(_time.GetTimestamp(), options.DeliveryDeadline);

            var at = _time.GetUtcNow();
            var sent = _time.GetTimestamp();
            DeliveryResult result;
            try
            {
                result = await channel.SendAsync(config, notification, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e)
            {
                // A channel's own bug: retrying the same notification would fail the same way.
                var error = HttpNotificationChannel.Describe(e, config);
                ChannelLog.ChannelThrew(_logger, config.Type, config.Name, config.Id, e.GetType().Name, error);
                result = new DeliveryResult(DeliveryOutcome.Failed, Error: $"{e.GetType().Name}: {error}");
            }

            var answered = _time.GetTimestamp();
            var lastError = result.Error is null ? null : SecretScrubber.Scrub(result.Error, config);
            attempts.Add(new DeliveryAttempt(attempts.Count + 1, at, _time.GetElapsedTime(sent), result.Outcome, result.StatusCode, result.RetryAfter, lastError));

            switch (result.Outcome)
            {
                case DeliveryOutcome.Delivered:
                    ChannelLog.Delivered(_logger, config.Type, config.Name, config.Id, attempts.Count, _time.GetElapsedTime(started).TotalMilliseconds);
                    return Report(DeliveryOutcome.Delivered, null);

                case DeliveryOutcome.Failed:
                    ChannelLog.Failed(_logger, config.Type, config.Name, config.Id, attempts.Count, result.StatusCode, lastError);
                    return Report(DeliveryOutcome.Failed, lastError);
            }

            var delay = result.RetryAfter is { } retryAfter && retryAfter > TimeSpan.Zero
                ? (retryAfter < options.MaxRetryAfter ? retryAfter : options.MaxRetryAfter)
                : Backoff(attempts.Count, options);
            var left = _time.GetElapsedTime(answered, deadline.Value);
            if (delay > left)
            {
                var error = $"Gave up after {attempts.Count} attempt(s): the next one (in {delay.TotalSeconds:F1} s) would be past the "
                            + $"{options.DeliveryDeadline.TotalSeconds:F0} s deadline. Last error: {lastError}";
                ChannelLog.GaveUp(_logger, config.Type, config.Name, config.Id, attempts.Count, _time.GetElapsedTime(started).TotalMilliseconds, lastError);
                return Report(DeliveryOutcome.Retry, error);
            }

            ChannelLog.WillRetry(_logger, attempts.Count, config.Type, config.Name, config.Id, result.StatusCode, lastError, delay.TotalMilliseconds);
            // Counted from the answer, so a Retry-After of 2 s means the next request leaves 2 s after it, not before.
            await _time.UntilAsync(_time.Plus(answered, delay), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The wait before retry <paramref name="failures"/>: <see cref="ChannelDeliveryOptions.InitialBackoff"/> doubled per
    /// failure, capped at <see cref="ChannelDeliveryOptions.MaxBackoff"/>, then shortened by up to the jitter fraction
    /// (never lengthened, so the cap holds).
    /// </summary>
    internal static TimeSpan Backoff(int failures, ChannelDeliveryOptions options)
    {
        var exponent = Math.Min(failures - 1, 30);
        var seconds = Math.Min(options.InitialBackoff.TotalSeconds * Math.Pow(2, exponent), options.MaxBackoff.TotalSeconds);
        return TimeSpan.FromSeconds(seconds * (1 - (options.BackoffJitter * Random.Shared.NextDouble())));
    }
}
