using System.Diagnostics.Metrics;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.WebhookIngress.Security;

/// <summary>Rejections by layer and whether a layer runs on its per-replica fallback, exported on <c>/metrics</c>.</summary>
public sealed class WebhookSecurityMetrics
{
    public const string MeterName = "VoiceKraliki.WebhookIngress";

    private readonly Counter<long> _rejections;

    public WebhookSecurityMetrics(IMeterFactory meterFactory, WebhookRateLimiter rateLimiter, ReplayGuard replayGuard)
    {
        // The factory owns the meter and disposes it with the container.
        var meter = meterFactory.Create(MeterName);
        _rejections = meter.CreateCounter<long>(
            "telephony_webhook_rejections_total", "{request}", "Webhook requests rejected, by provider, layer and reason.");
        meter.CreateObservableGauge(
            "telephony_webhook_security_fallback",
            () => new[]
            {
                new Measurement<int>(rateLimiter.UsingFallback ? 1 : 0, new KeyValuePair<string, object?>("layer", RejectionLayers.RateLimit)),
                new Measurement<int>(replayGuard.UsingFallback ? 1 : 0, new KeyValuePair<string, object?>("layer", RejectionLayers.Replay)),
            },
            description: "1 while a webhook security layer keeps its state per replica because Redis is unavailable.");
    }

    /// <param name="layer">One of <see cref="RejectionLayers"/>.</param>
    /// <param name="reason">A short fixed word (<c>total</c>, <c>failed-verification</c>, <c>bad-signature</c>, <c>stale</c>…), never request data.</param>
    public void Rejected(TelephonyProvider provider, string layer, string reason) =>
        _rejections.Add(1,
            new KeyValuePair<string, object?>("provider", provider == TelephonyProvider.Twilio ? "twilio" : "telnyx"),
            new KeyValuePair<string, object?>("layer", layer),
            new KeyValuePair<string, object?>("reason", reason));
}

/// <summary>Values of the <c>layer</c> tag.</summary>
public static class RejectionLayers
{
    public const string RateLimit = "rate-limit";
    public const string Allowlist = "allowlist";
    public const string Signature = "signature";
    public const string Freshness = "freshness";
    public const string Replay = "replay";
}
