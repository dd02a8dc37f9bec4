using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Signatures;
using VoiceKraliki.WebhookIngress.Security;
using VoiceKraliki.WebhookIngress.Webhooks;

namespace VoiceKraliki.WebhookIngress.Apis;

/// <summary>
/// <c>POST /webhooks/twilio/voice</c>, <c>/webhooks/twilio/status</c>, <c>/webhooks/twilio/{kind}</c> and
/// <c>/webhooks/telnyx</c>: provider webhooks, verified by the provider's signature (not by our API
/// credentials), answered 2xx only once their event is on the bus.
/// </summary>
public static class WebhooksApi
{
    private const string TwilioIdempotencyHeader = "I-Twilio-Idempotency-Token";

    public static IEndpointRouteBuilder MapWebhooksApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/webhooks").AllowAnonymous().WithTags("Webhooks").DisableAntiforgery();
        group.MapPost("/twilio/{kind:regex(^[a-z][a-z0-9-]{{0,31}}$)}", (HttpContext context, string kind) =>
            HandleAsync(context, TelephonyProvider.Twilio, kind));
        group.MapPost("/telnyx", (HttpContext context) => HandleAsync(context, TelephonyProvider.Telnyx, "call-control"));
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext context, TelephonyProvider provider, string kind)
    {
        var services = context.RequestServices;
        var metrics = services.GetRequiredService<WebhookMetrics>();
        var started = Stopwatch.GetTimestamp();
        var status = StatusCodes.Status500InternalServerError;
        var outcomeKind = WebhookOutcomeKind.Malformed;
        try
        {
            (status, outcomeKind) = await ProcessAsync(context, provider, kind);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The provider hung up on us; it retries.
            status = 499;
            outcomeKind = WebhookOutcomeKind.BusUnavailable;
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            metrics.Answered(provider, status, outcomeKind, elapsed);
            services.GetRequiredService<WebhookTrafficReporter>().Record(provider, status, outcomeKind, elapsed);
        }
    }

    private static async Task<(int Status, WebhookOutcomeKind Outcome)> ProcessAsync(HttpContext context, TelephonyProvider provider, string kind)
    {
        var services = context.RequestServices;
        var options = services.GetRequiredService<IOptions<WebhookOptions>>().Value;
        var request = context.Request;

        if (request.ContentLength > options.MaxBodyBytes)
        {
            return await WriteProblemAsync(context, WebhookOutcomeKind.TooLarge, StatusCodes.Status413PayloadTooLarge, "Request body too large",
                $"A webhook body may be at most {options.MaxBodyBytes} bytes.");
        }

        var buffer = ArrayPool<byte>.Shared.Rent(options.MaxBodyBytes + 1);
        try
        {
            var length = await ReadBodyAsync(request.Body, buffer, options.MaxBodyBytes + 1, context.RequestAborted);
            if (length > options.MaxBodyBytes)
            {
                return await WriteProblemAsync(context, WebhookOutcomeKind.TooLarge, StatusCodes.Status413PayloadTooLarge, "Request body too large",
                    $"A webhook body may be at most {options.MaxBodyBytes} bytes.");
            }

            var client = services.GetRequiredService<ClientAddressResolver>().Resolve(context);
            var publicUrl = services.GetRequiredService<PublicUrl>();
            var webhook = new WebhookRequest(
                provider,
                kind,
                buffer.AsMemory(0, length),
                MediaTypeOf(request.ContentType),
                publicUrl.For(context),
                provider == TelephonyProvider.Twilio
                    ? SingleHeader(request, TwilioSignature.HeaderName)
                    : SingleHeader(request, TelnyxSignatureVerifier.SignatureHeader),
                provider == TelephonyProvider.Telnyx ? SingleHeader(request, TelnyxSignatureVerifier.TimestampHeader) : null,
                provider == TelephonyProvider.Twilio ? SingleHeader(request, TwilioIdempotencyHeader) : null,
                client,
                request.Path.Value ?? string.Empty);

            var outcome = await services.GetRequiredService<WebhookPipeline>().ProcessAsync(webhook, context.RequestAborted);
            return await WriteAnswerAsync(context, webhook, outcome);
        }
        catch (BadHttpRequestException ex)
        {
            // The body could not be read (a client error surfaced by Kestrel): never a 500.
            return await WriteProblemAsync(context, ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? WebhookOutcomeKind.TooLarge : WebhookOutcomeKind.Malformed,
                ex.StatusCode, "Bad request", ex.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<(int, WebhookOutcomeKind)> WriteAnswerAsync(HttpContext context, WebhookRequest webhook, WebhookOutcome outcome)
    {
        var isVoice = webhook.Provider == TelephonyProvider.Twilio && webhook.Kind == "voice";
        if (isVoice && (outcome.IsSuccess || outcome.Kind == WebhookOutcomeKind.BusUnavailable))
        {
            var responder = context.RequestServices.GetRequiredService<VoiceResponder>();
            var twiml = outcome.IsSuccess
                ? responder.Connect(outcome.Event!, context.RequestServices.GetRequiredService<PublicUrl>().MediaStreamUrl(context, "twilio"))
                : responder.Apology();
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "text/xml; charset=utf-8";
            await context.Response.WriteAsync(twiml, context.RequestAborted);
            return (StatusCodes.Status200OK, outcome.Kind);
        }

        if (outcome.IsSuccess)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return (StatusCodes.Status204NoContent, outcome.Kind);
        }

        if (outcome.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return await WriteProblemAsync(context, outcome.Kind, outcome.StatusCode, outcome.Title, outcome.Detail);
    }

    private static async Task<(int, WebhookOutcomeKind)> WriteProblemAsync(HttpContext context, WebhookOutcomeKind kind, int status, string title, string? detail)
    {
        context.Response.StatusCode = status;
        await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
        return (status, kind);
    }

    private static async Task<int> ReadBodyAsync(Stream body, byte[] buffer, int limit, CancellationToken cancellationToken)
    {
        var length = 0;
        while (length < limit)
        {
            var read = await body.ReadAsync(buffer.AsMemory(length, limit - length), cancellationToken);
            if (read == 0)
            {
                break;
            }

            length += read;
        }

        return length;
    }

    private static string? SingleHeader(HttpRequest request, string name)
    {
        var values = request.Headers[name];
        return values.Count == 1 ? values[0] : null;
    }

    private static string? MediaTypeOf(string? contentType) =>
        Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var parsed)
            ? parsed.MediaType.Value?.ToLowerInvariant()
            : null;
}
