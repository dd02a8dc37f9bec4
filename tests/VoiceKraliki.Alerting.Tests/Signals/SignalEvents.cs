using VoiceKraliki.Contracts;

namespace VoiceKraliki.Alerting.Tests.Signals;

/// <summary>Integration events as the services publish them, with only what a test cares about to set.</summary>
internal static class SignalEvents
{
    public static readonly DateTimeOffset Start = new(2026, 11, 23, 10, 0, 0, TimeSpan.Zero);

    public static CallStateChanged CallEnded(
        DateTimeOffset at, CallStatus? previous, CallEndReason reason, CallStatus status = CallStatus.Completed,
        TelephonyProvider provider = TelephonyProvider.Twilio) =>
        new(Guid.NewGuid(), at, "CA1", provider, "CA1", previous, status, reason, CallDirection.Inbound, Guid.NewGuid(), TimeSpan.FromSeconds(30));

    /// <summary>A webhook ingress received at <paramref name="at"/> for a call event of <paramref name="providerTime"/> (default: the same).</summary>
    public static CallEventReceived Accepted(DateTimeOffset at, TelephonyProvider provider = TelephonyProvider.Twilio, DateTimeOffset? providerTime = null) =>
        new(Guid.NewGuid(), providerTime ?? at, "CA1", provider, "CA1", null, "call.answered", "in-progress", CallStatus.Answered, CallEndReason.None,
            null, null, CallDirection.Inbound, 1, null, null, at, new Dictionary<string, string>());

    public static WebhookRejected Rejected(DateTimeOffset at, TelephonyProvider? provider = TelephonyProvider.Twilio) =>
        new(Guid.NewGuid(), at, "", provider, "/webhooks/twilio/status", "signature: Invalid signature", 403, "203.0.113.x");

    public static WebhookTrafficReported Traffic(
        DateTimeOffset at, long accepted, long rejected, long serverErrors, long[]? buckets = null,
        TelephonyProvider? provider = TelephonyProvider.Twilio, string instance = "ingress-1") =>
        new(Guid.NewGuid(), at, "webhook-traffic/" + instance, provider, TimeSpan.FromSeconds(5), accepted, rejected, serverErrors,
            buckets ?? new long[WebhookTrafficReported.LatencyBucketCount], instance);

    /// <summary>A histogram with <paramref name="count"/> answers in the bucket whose upper bound is <paramref name="boundMs"/> (null: +∞).</summary>
    public static long[] Buckets(params (double? BoundMs, long Count)[] buckets)
    {
        var counts = new long[WebhookTrafficReported.LatencyBucketCount];
        foreach (var (bound, count) in buckets)
        {
            var index = bound is { } ms ? WebhookTrafficReported.LatencyBucketBoundsMs.ToList().IndexOf(ms) : counts.Length - 1;
            Assert.True(index >= 0, $"{bound} is not a bucket bound");
            counts[index] += count;
        }

        return counts;
    }

    public static MediaQualityReported Quality(
        DateTimeOffset at, double loss, double jitterMs, bool final = false, TelephonyProvider provider = TelephonyProvider.Twilio) =>
        new(Guid.NewGuid(), at, "CA1", provider, "MZ1", TimeSpan.FromSeconds(10), 500, (long)(500 * (1 - loss)), loss, jitterMs, 0,
            EstimatedMos: 1.0, Final: final);

    public static ProviderHealthChanged Health(DateTimeOffset at, string status, TelephonyProvider provider = TelephonyProvider.Twilio) =>
        new(Guid.NewGuid(), at, "health/" + provider, provider, status, null, null, null);

    public static ComplianceViolationDetected Violation(DateTimeOffset at) =>
        new(Guid.NewGuid(), at, "CA1", "recording-without-consent", "US-CA", "Recorded without all-party consent");

    public static DataSubjectRequestEndangered AtRisk(DateTimeOffset at) =>
        new(Guid.NewGuid(), at, "req", Guid.NewGuid(), "erasure", at.AddDays(3), ["call-state"]);
}
