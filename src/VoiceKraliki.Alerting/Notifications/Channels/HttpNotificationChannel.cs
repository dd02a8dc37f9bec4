using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace VoiceKraliki.Alerting.Notifications.Channels;

/// <summary>
/// A channel that POSTs JSON once through a named client of the HttpClient factory (which adds the ServiceDefaults
/// resilience pipeline: timeouts and a circuit breaker, never a retried POST) and classifies the answer. The URL is a
/// secret (a Slack or webhook token is in its path), so only its host is ever logged or reported.
/// </summary>
public abstract class HttpNotificationChannel(IHttpClientFactory httpClients, TimeProvider time, ILogger logger) : INotificationChannel
{
    /// <summary>How much of a receiver's error body is kept for <see cref="DeliveryResult.Error"/>.</summary>
    private const int MaxDetailLength = 300;

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        // Valid JSON that a person can read in a receiver's log; the body is never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public abstract string Type { get; }

    /// <summary>The named HttpClient this channel sends through.</summary>
    protected abstract string ClientName { get; }

    protected TimeProvider Time => time;

    public abstract IReadOnlyDictionary<string, string> Validate(ChannelConfig config);

    public abstract Task<DeliveryResult> SendAsync(ChannelConfig config, Notification notification, CancellationToken cancellationToken);

    internal static byte[] WriteJson(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>POSTs <paramref name="json"/> to <paramref name="url"/> once and says what happened.</summary>
    protected async Task<DeliveryResult> PostJsonAsync(ChannelConfig config, Uri url, byte[] json, CancellationToken cancellationToken)
    {
        var host = ChannelUrls.Describe(url);
        var started = time.GetTimestamp();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new ByteArrayContent(json) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" } } },
        };
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("VoiceKraliki-Alerting", "1.0"));

        try
        {
            var client = httpClients.CreateClient(ClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            var detail = await ReadDetailAsync(response, config, cancellationToken).ConfigureAwait(false);
            var result = Classify(response, host, detail);
            ChannelLog.HttpAnswered(logger, Type, config.Name, config.Id, host, (int)response.StatusCode, result.Outcome, time.GetElapsedTime(started).TotalMilliseconds);
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or TimeoutRejectedException or BrokenCircuitException or IOException)
        {
            // Unreachable, refused, timed out, or the breaker is open for this client: all may pass.
            var error = $"{Describe(e, config)} ({host})";
            ChannelLog.HttpFailed(logger, Type, config.Name, config.Id, host, error);
            return new DeliveryResult(DeliveryOutcome.Retry, Error: error);
        }
    }

    /// <summary>
    /// 2xx is delivered; 408, 429 and 5xx may pass (with the receiver's <c>Retry-After</c> when it gives one); any other
    /// answer (400 bad payload, 401/403 revoked, 404/410 gone) will not change by trying again.
    /// </summary>
    protected virtual DeliveryResult Classify(HttpResponseMessage response, string host, string detail)
    {
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return DeliveryResult.Delivered(status);
        }

        var error = $"HTTP {status} from {host}" + (detail.Length > 0 ? $": {detail}" : "");
        var retryable = response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout || status >= 500;
        return retryable
            ? new DeliveryResult(DeliveryOutcome.Retry, status, RetryAfterOf(response), error)
            : new DeliveryResult(DeliveryOutcome.Failed, status, null, error);
    }

    /// <summary>The receiver's <c>Retry-After</c> (seconds or an HTTP date) as a wait from now, or null.</summary>
    protected TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        var wait = header?.Delta ?? (header?.Date is { } date ? date - time.GetUtcNow() : null);
        return wait is { } w ? (w < TimeSpan.Zero ? TimeSpan.Zero : w) : null;
    }

    internal static string Describe(Exception exception, ChannelConfig config)
    {
        var innermost = exception;
        while (innermost.InnerException is { } inner)
        {
            innermost = inner;
        }

        var message = exception switch
        {
            BrokenCircuitException => "the circuit breaker is open after repeated failures",
            TimeoutRejectedException or TaskCanceledException => "timed out",
            _ => innermost.Message,
        };
        return AlertDigest.Truncate(AlertDigest.OneLine(SecretScrubber.Scrub(message, config)), MaxDetailLength);
    }

    private static async Task<string> ReadDetailAsync(HttpResponseMessage response, ChannelConfig config, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return "";
        }

        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[1024];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += read;
            }

            var text = Encoding.UTF8.GetString(buffer, 0, length).Trim();
            return AlertDigest.Truncate(AlertDigest.OneLine(SecretScrubber.Scrub(text, config)), MaxDetailLength);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return "";
        }
    }
}

/// <summary>What the channels and their delivery log. Never a URL, a key or a password: the channel's name, id and host.</summary>
internal static partial class ChannelLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "{ChannelType} channel {ChannelName} ({ChannelId}) at {Host} answered HTTP {StatusCode} ({Outcome}) in {ElapsedMs:F0} ms")]
    public static partial void HttpAnswered(ILogger logger, string channelType, string channelName, Guid channelId, string host, int statusCode, DeliveryOutcome outcome, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{ChannelType} channel {ChannelName} ({ChannelId}) at {Host} could not be reached: {Error}")]
    public static partial void HttpFailed(ILogger logger, string channelType, string channelName, Guid channelId, string host, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Email channel {ChannelName} ({ChannelId}): {Host} answered {Reply} to {Step}")]
    public static partial void SmtpReplied(ILogger logger, string channelName, Guid channelId, string host, int reply, string step);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Email channel {ChannelName} ({ChannelId}): mail to {RecipientCount} recipient(s) accepted by {Host} (TLS {Tls}, authenticated {Authenticated})")]
    public static partial void SmtpSent(ILogger logger, string channelName, Guid channelId, string host, int recipientCount, bool tls, bool authenticated);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Email channel {ChannelName} ({ChannelId}) at {Host}: {Error}")]
    public static partial void SmtpFailed(ILogger logger, string channelName, Guid channelId, string host, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivered to {ChannelType} channel {ChannelName} ({ChannelId}) on attempt {Attempt} after {ElapsedMs:F0} ms")]
    public static partial void Delivered(ILogger logger, string channelType, string channelName, Guid channelId, int attempt, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Attempt {Attempt} to {ChannelType} channel {ChannelName} ({ChannelId}) failed ({StatusCode}): {Error}; retrying in {DelayMs:F0} ms")]
    public static partial void WillRetry(ILogger logger, int attempt, string channelType, string channelName, Guid channelId, int? statusCode, string? error, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery to {ChannelType} channel {ChannelName} ({ChannelId}) failed on attempt {Attempt} ({StatusCode}) and will not be retried: {Error}")]
    public static partial void Failed(ILogger logger, string channelType, string channelName, Guid channelId, int attempt, int? statusCode, string? error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Gave up delivering to {ChannelType} channel {ChannelName} ({ChannelId}) after {Attempts} attempt(s) in {ElapsedMs:F0} ms: {Error}")]
    public static partial void GaveUp(ILogger logger, string channelType, string channelName, Guid channelId, int attempts, double elapsedMs, string? error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Waiting {WaitMs:F0} ms for the rate limit of {ChannelType} channel {ChannelName} ({ChannelId})")]
    public static partial void RateLimited(ILogger logger, string channelType, string channelName, Guid channelId, double waitMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "{ChannelType} channel {ChannelName} ({ChannelId}) threw {ExceptionType}: {Error}")]
    public static partial void ChannelThrew(ILogger logger, string channelType, string channelName, Guid channelId, string exceptionType, string error);
}
