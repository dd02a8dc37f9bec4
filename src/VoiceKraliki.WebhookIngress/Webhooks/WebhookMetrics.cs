using System.Diagnostics.Metrics;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.WebhookIngress.Webhooks;

/// <summary>
/// <c>telephony_webhook_requests_total{provider,status,outcome}</c> and
/// <c>telephony_webhook_request_duration_seconds{provider,status}</c>.
/// </summary>
public sealed class WebhookMetrics
{
    public const string MeterName = "VoiceKraliki.WebhookIngress";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _rejectionsDropped;

    public WebhookMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _requests = meter.CreateCounter<long>("telephony_webhook_requests", description: "Provider webhooks answered, by provider, HTTP status and outcome.");
        _duration = meter.CreateHistogram<double>("telephony_webhook_request_duration", unit: "s",
            description: "Time from receiving a provider webhook to answering it.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _rejectionsDropped = meter.CreateCounter<long>("telephony_webhook_rejection_events_dropped",
            description: "WebhookRejected events not published because the queue towards the bus was full.");
    }

    public void Answered(TelephonyProvider provider, int status, WebhookOutcomeKind outcome, TimeSpan elapsed)
    {
        var providerTag = new KeyValuePair<string, object?>("provider", ProviderTag(provider));
        var statusTag = new KeyValuePair<string, object?>("status", StatusTag(status));
        _requests.Add(1, providerTag, statusTag, new KeyValuePair<string, object?>("outcome", OutcomeTag(outcome)));
        _duration.Record(elapsed.TotalSeconds, providerTag, statusTag);
    }

    public void RejectionDropped() => _rejectionsDropped.Add(1);

    private static string ProviderTag(TelephonyProvider provider) => provider == TelephonyProvider.Twilio ? "twilio" : "telnyx";

    private static string StatusTag(int status) => status switch
    {
        200 => "200",
        204 => "204",
        400 => "400",
        403 => "403",
        413 => "413",
        415 => "415",
        429 => "429",
        503 => "503",
        _ => status.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static string OutcomeTag(WebhookOutcomeKind outcome) => outcome switch
    {
        WebhookOutcomeKind.Accepted => "accepted",
        WebhookOutcomeKind.Duplicate => "duplicate",
        WebhookOutcomeKind.RateLimited => "rate-limited",
        WebhookOutcomeKind.SourceNotAllowed => "source-not-allowed",
        WebhookOutcomeKind.SignatureInvalid => "signature-invalid",
        WebhookOutcomeKind.Stale => "stale",
        WebhookOutcomeKind.Malformed => "malformed",
        WebhookOutcomeKind.TooLarge => "too-large",
        WebhookOutcomeKind.UnsupportedMediaType => "unsupported-media-type",
        WebhookOutcomeKind.BusUnavailable => "bus-unavailable",
        _ => "other",
    };
}
