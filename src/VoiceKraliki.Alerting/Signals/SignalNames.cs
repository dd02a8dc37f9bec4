namespace VoiceKraliki.Alerting.Signals;

/// <summary>
/// The signals alerting rules can watch. Rates are ratios from 0 to 1; a rate or a mean has no value until its window
/// holds <see cref="SignalOptions.DefaultMinEvents"/> events (per signal: <see cref="SignalOptions.MinEvents"/>), so one
/// failure out of one does not read as 100 %. Every signal but the two compliance counts is one series per
/// <c>provider</c> label (<c>twilio</c>, <c>telnyx</c>, or <c>unknown</c> when the event names none).
/// </summary>
public static class SignalNames
{
    /// <summary>
    /// Of the calls that ended after being answered, the share that ended abnormally (a drop), from
    /// <c>CallStateChanged</c>: a call was answered when it ends (Completed or Failed) from Answered, OnHold or
    /// Transferring; its end is normal when the end reason is Normal, MachineDetected (answering machine, handled as
    /// intended) or TimeLimit (our own maximum length), and abnormal otherwise (Failed, Unknown: no cause, or a cause the
    /// provider did not name). Default window 60 s.
    /// </summary>
    public const string CallDropRate = "call_drop_rate";

    /// <summary>
    /// Of the calls that ended (Completed or Failed, answered or not), the share that failed for technical reasons:
    /// status Failed (the network could not set the call up) or end reason Failed. Busy, no-answer, canceled and
    /// rejected calls end Completed and count in the denominator only: they are the callee's or caller's choice, not a
    /// fault of ours or the provider's. Default window 60 s.
    /// </summary>
    public const string CallFailureRate = "call_failure_rate";

    /// <summary>
    /// rejected / (accepted + rejected) webhooks: <c>WebhookRejected</c> (any refusal: signature, freshness, limits,
    /// malformed, too large) over those plus <c>CallEventReceived</c> (every webhook ingress accepted onto the bus).
    /// Both are published the moment the webhook is answered, so a spike shows within a second; both count at the time
    /// ingress received the webhook (not the provider's time of the call event). Default window 60 s.
    /// </summary>
    public const string WebhookFailureRate = "webhook_failure_rate";

    /// <summary>
    /// The 95th percentile of webhook response times in milliseconds, from the latency histograms of every ingress
    /// replica's <c>WebhookTrafficReported</c> in the window added up; interpolated linearly inside the bucket that holds
    /// it (as Prometheus's <c>histogram_quantile</c>), and the last finite bound (5000 ms) when it falls in the +∞
    /// bucket. Every answered webhook counts, refused ones too. Default window 60 s.
    /// </summary>
    public const string WebhookResponseTimeP95Ms = "webhook_response_time_p95_ms";

    /// <summary>
    /// server errors / all answers of webhook ingress, from <c>WebhookTrafficReported</c>: 5xx, and voice webhooks
    /// answered with an apology because the bus was down, over 2xx + 4xx + 5xx. Default window 60 s.
    /// </summary>
    public const string ErrorRate = "error_rate";

    /// <summary>
    /// The provider's health from its latest <c>ProviderHealthChanged</c> (by its time): healthy 1, degraded 0.5,
    /// unavailable or down 0. No window: the last state holds until the next change; no event ever means no value.
    /// </summary>
    public const string ProviderHealth = "provider_health";

    /// <summary>
    /// The mean packet loss ratio (0 to 1) of the 10-second <c>MediaQualityReported</c> intervals in the window (each
    /// stream's interval counts once; the final whole-stream reports are left out, they repeat the intervals).
    /// Default window 60 s.
    /// </summary>
    public const string AudioPacketLoss = "audio_packet_loss";

    /// <summary>The mean RFC 3550 jitter in milliseconds of the <c>MediaQualityReported</c> intervals in the window. Default window 60 s.</summary>
    public const string AudioJitterMs = "audio_jitter_ms";

    /// <summary>
    /// The mean opinion score (1 to 4.5) that the reduced ITU-T G.107 E-model (<see cref="MosEstimate"/>) gives for the
    /// window's mean packet loss and mean jitter, with the configured one-way delay: computed here, not the media
    /// bridge's per-stream <c>EstimatedMos</c>. Default window 60 s.
    /// </summary>
    public const string AudioMos = "audio_mos";

    /// <summary>
    /// How many <c>ComplianceViolationDetected</c> arrived in the window; one series without labels, 0 when none.
    /// Default window 10 min.
    /// </summary>
    public const string ComplianceViolations = "compliance_violations";

    /// <summary>
    /// How many <c>DataSubjectRequestEndangered</c> (a data-subject request close to its legal deadline; published once
    /// per request) arrived in the window; one series without labels, 0 when none. Default window 24 h.
    /// </summary>
    public const string ComplianceRequestsAtRisk = "compliance_requests_at_risk";

    /// <summary>Every signal, in the order <see cref="SignalStore.Sample"/> returns them.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        CallDropRate, CallFailureRate, WebhookFailureRate, WebhookResponseTimeP95Ms, ErrorRate, ProviderHealth,
        AudioPacketLoss, AudioJitterMs, AudioMos, ComplianceViolations, ComplianceRequestsAtRisk,
    ];

    /// <summary>The signals counted over a window of time-bucketed event counters (rates, means, the percentile).</summary>
    internal static IReadOnlyList<string> Windowed { get; } =
    [
        CallDropRate, CallFailureRate, WebhookFailureRate, WebhookResponseTimeP95Ms, ErrorRate, AudioPacketLoss, AudioJitterMs, AudioMos,
    ];

    /// <summary>The signals that count rare events, kept in Postgres so a restart or a new replica still sees them.</summary>
    internal static IReadOnlyList<string> Counted { get; } = [ComplianceViolations, ComplianceRequestsAtRisk];

    public static bool IsKnown(string signal) => All.Contains(signal, StringComparer.Ordinal);

    /// <summary>The window each signal gets unless <see cref="SignalOptions.Windows"/> sets one.</summary>
    internal static TimeSpan DefaultWindow(string signal) => signal switch
    {
        ComplianceViolations => TimeSpan.FromMinutes(10),
        ComplianceRequestsAtRisk => TimeSpan.FromHours(24),
        ProviderHealth => TimeSpan.Zero,
        _ => TimeSpan.FromSeconds(60),
    };
}
