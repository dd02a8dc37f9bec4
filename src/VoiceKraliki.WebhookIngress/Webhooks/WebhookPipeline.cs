using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony;
using VoiceKraliki.Telephony.Events;
using VoiceKraliki.Telephony.Signatures;
using VoiceKraliki.WebhookIngress.Security;

namespace VoiceKraliki.WebhookIngress.Webhooks;

/// <summary>
/// The layers every webhook passes, in order: rate limit, source allowlist, signature, freshness,
/// parsing, replay, then the bus. A webhook is answered 2xx only once its event is confirmed by the
/// broker (or it is a repeat of one that was).
/// </summary>
public sealed partial class WebhookPipeline
{
    private const string FormMediaType = "application/x-www-form-urlencoded";
    private const string JsonMediaType = "application/json";

    private readonly WebhookRateLimiter _rateLimiter;
    private readonly SourceAllowlist _allowlist;
    private readonly ReplayGuard _replay;
    private readonly IBus _bus;
    private readonly RejectionPublisher _rejections;
    private readonly WebhookSecurityMetrics _securityMetrics;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookPipeline> _logger;
    private readonly WebhookSecurityOptions _security;
    private readonly WebhookOptions _options;
    private readonly TwilioRequestValidator? _twilio;
    private readonly TelnyxSignatureVerifier? _telnyx;

    public WebhookPipeline(
        WebhookRateLimiter rateLimiter,
        SourceAllowlist allowlist,
        ReplayGuard replay,
        IBus bus,
        RejectionPublisher rejections,
        WebhookSecurityMetrics securityMetrics,
        TimeProvider time,
        IOptions<WebhookSecurityOptions> security,
        IOptions<WebhookOptions> options,
        IOptions<TelephonyOptions> telephony,
        ILogger<WebhookPipeline> logger)
    {
        _rateLimiter = rateLimiter;
        _allowlist = allowlist;
        _replay = replay;
        _bus = bus;
        _rejections = rejections;
        _securityMetrics = securityMetrics;
        _time = time;
        _logger = logger;
        _security = security.Value;
        _options = options.Value;
        var providers = telephony.Value;
        _twilio = string.IsNullOrEmpty(providers.Twilio.AuthToken) ? null : new TwilioRequestValidator(providers.Twilio.AuthToken);
        _telnyx = string.IsNullOrEmpty(providers.Telnyx.PublicKey) ? null : new TelnyxSignatureVerifier(providers.Telnyx.PublicKey, time);
    }

    public async Task<WebhookOutcome> ProcessAsync(WebhookRequest request, CancellationToken cancellationToken)
    {
        var outcome = await DecideAsync(request, cancellationToken);
        if (!outcome.IsSuccess && outcome.Kind != WebhookOutcomeKind.BusUnavailable)
        {
            Reject(request, outcome);
        }

        return outcome;
    }

    private async Task<WebhookOutcome> DecideAsync(WebhookRequest request, CancellationToken cancellationToken)
    {
        if (_security.RateLimit.Enabled)
        {
            var decision = await _rateLimiter.CheckAsync(request.Client, cancellationToken);
            if (!decision.Allowed)
            {
                return new WebhookOutcome(WebhookOutcomeKind.RateLimited, StatusCodes.Status429TooManyRequests, "Too many requests",
                    "Too many webhooks from this address; retry later.", RetryAfter: decision.RetryAfter);
            }
        }

        if (_security.Allowlist.Enabled && !_allowlist.IsAllowed(request.Provider, request.Client))
        {
            return await FailedVerificationAsync(request, WebhookOutcomeKind.SourceNotAllowed, "Source not allowed",
                "Webhooks are accepted only from the provider's source addresses.", cancellationToken);
        }

        if (!IsSupportedMediaType(request))
        {
            return new WebhookOutcome(WebhookOutcomeKind.UnsupportedMediaType, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type",
                request.Provider == TelephonyProvider.Twilio
                    ? $"Twilio webhooks are {FormMediaType} (or {JsonMediaType} with bodySHA256)."
                    : $"Telnyx webhooks are {JsonMediaType}.");
        }

        IReadOnlyList<KeyValuePair<string, string>>? fields = null;
        if (request.Provider == TelephonyProvider.Twilio)
        {
            var isJson = request.MediaType == JsonMediaType;
            if (!(isJson ? JsonFields.TryRead(request.Body.Span, out fields) : FormBody.TryParse(request.Body.Span, out fields)))
            {
                // A body we cannot decode cannot be verified either.
                return await FailedVerificationAsync(request, WebhookOutcomeKind.SignatureInvalid, "Invalid signature",
                    "The request body could not be decoded for signature validation.", cancellationToken);
            }

            if (_security.SignatureValidation && !IsTwilioSignatureValid(request, fields, isJson))
            {
                return await FailedVerificationAsync(request, WebhookOutcomeKind.SignatureInvalid, "Invalid signature",
                    "The X-Twilio-Signature header is missing or does not match the request.", cancellationToken);
            }
        }
        else if (_security.SignatureValidation)
        {
            var verification = _telnyx?.Verify(request.Body.Span, request.Signature, request.Timestamp)
                               ?? TelnyxVerificationResult.InvalidSignature;
            switch (verification)
            {
                case TelnyxVerificationResult.Valid:
                    break;
                case TelnyxVerificationResult.TimestampTooOld or TelnyxVerificationResult.TimestampInFuture:
                    return await FailedVerificationAsync(request, WebhookOutcomeKind.Stale, "Stale webhook",
                        "The telnyx-timestamp is more than 300 s from now.", cancellationToken);
                default:
                    return await FailedVerificationAsync(request, WebhookOutcomeKind.SignatureInvalid, "Invalid signature",
                        "The telnyx-signature-ed25519 / telnyx-timestamp headers are missing or do not match the request.", cancellationToken);
            }
        }

        var receivedAt = _time.GetUtcNow();
        CallEvent? callEvent;
        string? error;
        var parsed = request.Provider == TelephonyProvider.Twilio
            ? TwilioWebhookParser.TryParse(fields!, request.Kind, receivedAt, out callEvent, out error)
            : TelnyxWebhookParser.TryParse(request.Body.Span, receivedAt, out callEvent, out error);
        if (!parsed)
        {
            return new WebhookOutcome(WebhookOutcomeKind.Malformed, StatusCodes.Status400BadRequest, "Malformed webhook", error);
        }

        var key = IdempotencyKeys.For(request, callEvent!);
        if (_security.Replay.Enabled && !await _replay.TryClaimAsync(request.Provider, key, cancellationToken))
        {
            return new WebhookOutcome(WebhookOutcomeKind.Duplicate, StatusCodes.Status200OK, "Duplicate", null, callEvent);
        }

        if (!await TryPublishAsync(ToContract(callEvent!, IdempotencyKeys.EventId(request.Provider, key), receivedAt), cancellationToken))
        {
            // Let the provider's retry through: it is not a duplicate of anything that reached the bus.
            if (_security.Replay.Enabled)
            {
                await _replay.ReleaseAsync(request.Provider, key, CancellationToken.None);
            }

            return new WebhookOutcome(WebhookOutcomeKind.BusUnavailable, StatusCodes.Status503ServiceUnavailable, "Temporarily unavailable",
                "The event could not be stored; retry.", callEvent, TimeSpan.FromSeconds(1));
        }

        return new WebhookOutcome(WebhookOutcomeKind.Accepted, StatusCodes.Status200OK, "Accepted", null, callEvent);
    }

    private bool IsTwilioSignatureValid(WebhookRequest request, IReadOnlyList<KeyValuePair<string, string>> fields, bool isJson)
    {
        if (_twilio is null || string.IsNullOrEmpty(request.Signature))
        {
            return false;
        }

        return isJson
            ? _twilio.ValidateJsonBody(request.SignedUrl, request.Body.Span, request.Signature)
            : _twilio.Validate(request.SignedUrl, fields, request.Signature);
    }

    private static bool IsSupportedMediaType(WebhookRequest request) => request.Provider switch
    {
        TelephonyProvider.Twilio => request.MediaType is FormMediaType or JsonMediaType,
        _ => request.MediaType == JsonMediaType,
    };

    private async Task<WebhookOutcome> FailedVerificationAsync(
        WebhookRequest request, WebhookOutcomeKind kind, string title, string detail, CancellationToken cancellationToken)
    {
        if (_security.RateLimit.Enabled)
        {
            await _rateLimiter.RecordFailureAsync(request.Client, cancellationToken);
        }

        return new WebhookOutcome(kind, StatusCodes.Status403Forbidden, title, detail);
    }

    private async Task<bool> TryPublishAsync(CallEventReceived message, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.PublishTimeout);
        var started = _time.GetTimestamp();
        try
        {
            // Publisher confirms are on: this returns once RabbitMQ has the message.
            await _bus.Publish(message, timeout.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogPublishTimedOut(_logger, message.Provider, _time.GetElapsedTime(started).TotalMilliseconds);
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPublishFailed(_logger, message.Provider, ex.GetType().Name, ex.Message);
            return false;
        }
    }

    private void Reject(WebhookRequest request, WebhookOutcome outcome)
    {
        var source = SourceMask.Mask(request.Client);
        _securityMetrics.Rejected(request.Provider, outcome.Layer, outcome.Kind.ToString());
        if (outcome.Kind == WebhookOutcomeKind.RateLimited)
        {
            LogRateLimited(_logger, request.Provider, source);
        }
        else
        {
            LogRejected(_logger, request.Provider, outcome.Layer, outcome.Kind, source, request.Path);
        }

        _rejections.Enqueue(new WebhookRejected(
            Guid.NewGuid(),
            _time.GetUtcNow(),
            Activity.Current?.TraceId.ToString() ?? string.Empty,
            request.Provider,
            request.Path,
            $"{outcome.Layer}: {outcome.Title}",
            outcome.StatusCode,
            source));
    }

    private static CallEventReceived ToContract(CallEvent e, Guid eventId, DateTimeOffset receivedAt) => new(
        eventId,
        e.OccurredAt,
        e.ProviderCallId,
        e.Provider,
        e.ProviderCallId,
        e.SessionId,
        e.EventType,
        e.ProviderStatus,
        e.Status,
        e.EndReason,
        e.From,
        e.To,
        e.Direction,
        e.Sequence,
        e.AnsweredBy,
        e.HangupCause,
        receivedAt,
        e.RawFields,
        e.LegId,
        e.ProviderEventId,
        e.Recording is { } r ? new CallRecording(r.RecordingId, r.Url, r.Duration?.TotalSeconds, r.Status) : null,
        e.ClientState);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Provider} webhook to {Path} rejected by the {Layer} layer ({Outcome}) from {Source}")]
    private static partial void LogRejected(ILogger logger, TelephonyProvider provider, string layer, WebhookOutcomeKind outcome, string source, string path);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Provider} webhook from {Source} rate limited")]
    private static partial void LogRateLimited(ILogger logger, TelephonyProvider provider, string source);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Provider} webhook not confirmed by the bus within {ElapsedMs:F0} ms; answered 503 so the provider retries")]
    private static partial void LogPublishTimedOut(ILogger logger, TelephonyProvider provider, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Provider} webhook could not be published ({Error}: {Message}); answered 503 so the provider retries")]
    private static partial void LogPublishFailed(ILogger logger, TelephonyProvider provider, string error, string message);
}

/// <summary>The top-level scalar properties of a JSON object as fields (Twilio's JSON webhooks).</summary>
internal static class JsonFields
{
    public static bool TryRead(ReadOnlySpan<byte> json, out IReadOnlyList<KeyValuePair<string, string>> fields)
    {
        var list = new List<KeyValuePair<string, string>>();
        fields = list;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 32 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString()!;
                reader.Read();
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                        list.Add(new(name, reader.GetString()!));
                        break;
                    case JsonTokenType.Number:
                    case JsonTokenType.True:
                    case JsonTokenType.False:
                        list.Add(new(name, System.Text.Encoding.UTF8.GetString(reader.ValueSpan)));
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            // The rest must still be well-formed JSON.
            while (reader.Read())
            {
            }

            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false;
        }
    }
}
