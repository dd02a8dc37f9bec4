using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;

namespace VoiceKraliki.Simulator.Webhooks;

/// <summary>One try at delivering one webhook, as the simulator saw it.</summary>
public sealed record WebhookAttempt(string Url, string EventName, int Attempt, int? StatusCode, string? Error, DateTimeOffset At);

/// <summary>
/// Delivers webhooks with provider-like retries: a connection error, a timeout, a 5xx or a 429 is retried
/// (after <c>delay</c>, doubled each time, or the receiver's Retry-After if longer), any other answer is
/// final. A webhook that fails every attempt is logged and dropped, as the providers do.
/// </summary>
public sealed partial class WebhookSender
{
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentQueue<WebhookAttempt> _attempts = new();

    public WebhookSender(HttpClient http, TimeProvider time, ILogger logger)
    {
        _http = http;
        _time = time;
        _logger = logger;
    }

    public IReadOnlyList<WebhookAttempt> Attempts => _attempts.ToArray();

    /// <param name="build">Builds the request for attempt n (from 1): a body may change between attempts.</param>
    /// <returns>True when the receiver answered 2xx.</returns>
    public async Task<bool> DeliverAsync(
        string url, string eventName, Func<int, HttpRequestMessage> build, int maxAttempts, TimeSpan delay, CancellationToken cancellationToken)
    {
        for (var attempt = 1; attempt <= maxAttempts; attempt++)
        {
            TimeSpan? retryAfter = null;
            try
            {
                using var request = build(attempt);
                using var response = await _http.SendAsync(request, cancellationToken);
                var status = (int)response.StatusCode;
                _attempts.Enqueue(new WebhookAttempt(url, eventName, attempt, status, null, _time.GetUtcNow()));
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }

                if (status < 500 && response.StatusCode != HttpStatusCode.TooManyRequests)
                {
                    LogRejected(eventName, status);
                    return false;
                }

                retryAfter = response.Headers.RetryAfter?.Delta;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                _attempts.Enqueue(new WebhookAttempt(url, eventName, attempt, null, ex.GetType().Name, _time.GetUtcNow()));
            }

            if (attempt < maxAttempts)
            {
                var backoff = delay * Math.Pow(2, attempt - 1);
                await Task.Delay(retryAfter > backoff ? retryAfter.Value : backoff, _time, cancellationToken);
            }
        }

        LogGaveUp(eventName, maxAttempts);
        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {EventName} was rejected with {StatusCode}; not retried")]
    private partial void LogRejected(string eventName, int statusCode);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Webhook {EventName} failed {Attempts} attempts; dropped")]
    private partial void LogGaveUp(string eventName, int attempts);
}
