using System.Net;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Telephony.Providers;

/// <summary>A provider refused a request, or could not be reached.</summary>
public sealed class ProviderException : Exception
{
    public ProviderException(
        TelephonyProvider provider,
        string operation,
        HttpStatusCode? statusCode,
        string? errorCode,
        string message,
        bool isRetryable,
        TimeSpan? retryAfter = null,
        Exception? innerException = null)
        : base(message, innerException)
    {
        Provider = provider;
        Operation = operation;
        StatusCode = statusCode;
        ErrorCode = errorCode;
        IsRetryable = isRetryable;
        RetryAfter = retryAfter;
    }

    public TelephonyProvider Provider { get; }

    /// <summary>What we asked for (<c>PlaceCall</c>, <c>HangUp</c>, …).</summary>
    public string Operation { get; }

    /// <summary>The HTTP status; <see langword="null"/> when no answer came (connection refused, timeout).</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The provider's own error code (Twilio <c>20404</c>, Telnyx <c>90018</c>…), when it gave one.</summary>
    public string? ErrorCode { get; }

    /// <summary>
    /// True when trying again later may succeed: 408, 429, any 5xx, a timeout or a failed connection. Other 4xx
    /// answers are ours to fix.
    /// </summary>
    public bool IsRetryable { get; }

    /// <summary>How long the provider asked us to wait (<c>Retry-After</c>), when it said.</summary>
    public TimeSpan? RetryAfter { get; }

    internal static bool IsRetryableStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;
}
