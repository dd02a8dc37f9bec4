using System.Net;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Events;

namespace VoiceKraliki.WebhookIngress.Webhooks;

public enum WebhookOutcomeKind
{
    Accepted,
    Duplicate,
    RateLimited,
    SourceNotAllowed,
    SignatureInvalid,
    Stale,
    Malformed,
    TooLarge,
    UnsupportedMediaType,
    BusUnavailable,
}

/// <summary>What the pipeline decided about one webhook; the endpoint turns it into the HTTP answer.</summary>
public sealed record WebhookOutcome(WebhookOutcomeKind Kind, int StatusCode, string Title, string? Detail, CallEvent? Event = null, TimeSpan? RetryAfter = null)
{
    public bool IsSuccess => Kind is WebhookOutcomeKind.Accepted or WebhookOutcomeKind.Duplicate;

    /// <summary>The layer that refused it, as published in <see cref="WebhookRejected"/>.</summary>
    public string Layer => Kind switch
    {
        WebhookOutcomeKind.RateLimited => "rate-limit",
        WebhookOutcomeKind.SourceNotAllowed => "allowlist",
        WebhookOutcomeKind.SignatureInvalid => "signature",
        WebhookOutcomeKind.Stale => "freshness",
        WebhookOutcomeKind.Malformed => "parse",
        WebhookOutcomeKind.TooLarge or WebhookOutcomeKind.UnsupportedMediaType => "request",
        WebhookOutcomeKind.BusUnavailable => "bus",
        _ => "none",
    };
}

/// <summary>One webhook as received: the raw bytes and the few headers and facts the layers need.</summary>
public sealed record WebhookRequest(
    TelephonyProvider Provider,
    string Kind,
    ReadOnlyMemory<byte> Body,
    string? MediaType,
    string SignedUrl,
    string? Signature,
    string? Timestamp,
    string? IdempotencyToken,
    IPAddress Client,
    string Path);
