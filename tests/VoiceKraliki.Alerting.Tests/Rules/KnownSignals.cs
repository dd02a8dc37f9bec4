namespace VoiceKraliki.Alerting.Tests.Rules;

/// <summary>The signal names the signals code publishes (written separately; repeated here so these tests stand alone).</summary>
internal static class KnownSignals
{
    public static readonly IReadOnlyCollection<string> All =
    [
        "call_drop_rate", "call_failure_rate", "webhook_failure_rate", "webhook_response_time_p95_ms", "error_rate",
        "provider_health", "audio_packet_loss", "audio_jitter_ms", "audio_mos", "compliance_violations",
        "compliance_requests_at_risk",
    ];
}
