using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Telephony.Providers;

/// <summary>Sends one provider request and turns every way it can fail into a <see cref="ProviderException"/>.</summary>
internal sealed class ProviderHttp(
    HttpClient http,
    TelephonyProvider provider,
    ProviderHttp.ErrorReader readError,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>Reads the provider's error code and message from an error body (may be empty or not JSON).</summary>
    public delegate (string? Code, string? Message) ErrorReader(ReadOnlySpan<byte> body);

    /// <summary>The parsed JSON answer, or <see langword="null"/> for an empty one (204).</summary>
    public async Task<JsonDocument?> SendAsync(HttpRequestMessage request, string operation, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or ExecutionRejectedException)
        {
            // No answer at all: refused, reset, timed out or the circuit is open. The request may or may not have
            // reached the provider, which is why the caller, not this class, decides whether to send it again.
            ProviderLog.Unreachable(logger, provider, operation, ex.GetType().Name);
            var retryAfter = (ex as BrokenCircuitException)?.RetryAfter;
            var message = ex is HttpRequestException ? $"{provider} could not be reached: {ex.Message}" : $"{provider} did not answer in time.";
            throw new ProviderException(provider, operation, null, null, message, isRetryable: true, retryAfter, ex);
        }

        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var (code, message) = readError(body);
                var retryable = ProviderException.IsRetryableStatus(response.StatusCode);
                var retryAfter = RetryAfter(response);
                ProviderLog.Refused(logger, provider, operation, (int)response.StatusCode, code, retryable);
                throw new ProviderException(
                    provider,
                    operation,
                    response.StatusCode,
                    code,
                    string.IsNullOrWhiteSpace(message) ? $"{provider} answered {(int)response.StatusCode} {response.ReasonPhrase}." : message,
                    retryable,
                    retryAfter);
            }

            ProviderLog.Done(logger, provider, operation, (int)response.StatusCode);
            if (body.Length == 0)
            {
                return null;
            }

            try
            {
                return JsonDocument.Parse(body);
            }
            catch (JsonException ex)
            {
                throw new ProviderException(provider, operation, response.StatusCode, null, $"{provider} answered with a body that is not JSON.", isRetryable: false, innerException: ex);
            }
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>Reads a string or number property as text.</summary>
    public static string? Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Number => value.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            }
            : null;

    public static string Required(JsonElement element, string property, TelephonyProvider provider, string operation) =>
        Text(element, property) is { Length: > 0 } value
            ? value
            : throw new ProviderException(provider, operation, HttpStatusCode.OK, null, $"{provider} answered without '{property}'.", isRetryable: false);

    public static bool IsNotFound(ProviderException ex) => ex.StatusCode == HttpStatusCode.NotFound;
}

internal static partial class ProviderLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Debug, Message = "{Provider} {Operation} answered {StatusCode}")]
    public static partial void Done(ILogger logger, TelephonyProvider provider, string operation, int statusCode);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning,
        Message = "{Provider} {Operation} refused with {StatusCode} (provider code {ErrorCode}, retryable {Retryable})")]
    public static partial void Refused(ILogger logger, TelephonyProvider provider, string operation, int statusCode, string? errorCode, bool retryable);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "{Provider} {Operation} got no answer ({Failure})")]
    public static partial void Unreachable(ILogger logger, TelephonyProvider provider, string operation, string failure);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "{Provider} placing a call to {To} from {From}")]
    public static partial void Placing(ILogger logger, TelephonyProvider provider, string to, string from);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Information, Message = "{Provider} placed call {CallId}")]
    public static partial void Placed(ILogger logger, TelephonyProvider provider, string callId);
}
