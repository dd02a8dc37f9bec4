namespace VoiceKraliki.Contracts;

/// <summary>
/// What one webhook-ingress replica answered to one provider's webhooks over the last <see cref="Interval"/>: telemetry
/// for alerting, published every few seconds and only for intervals that had traffic. Losing one (a broker outage) is
/// acceptable; replicas report separately, and consumers add their reports up.
/// </summary>
/// <param name="Provider">The provider whose endpoint was called; null when the request named none.</param>
/// <param name="Interval">The time the counts cover, ending at <see cref="IIntegrationEvent.OccurredAt"/>.</param>
/// <param name="Accepted">Answered 2xx (taken, or a repeat of one that was).</param>
/// <param name="Rejected">Answered 4xx (refused: signature, limits, malformed...).</param>
/// <param name="ServerErrors">Answered 5xx, or a voice webhook answered with an apology because the bus was down.</param>
/// <param name="LatencyBucketCounts">
/// How many answers took at most each of <see cref="LatencyBucketBoundsMs"/> (and more than the bound before it), with
/// one more count at the end for those slower than the last bound: not cumulative, unlike Prometheus's <c>le</c> buckets.
/// </param>
/// <param name="Instance">The replica that reports (host and process).</param>
public sealed record WebhookTrafficReported(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    TelephonyProvider? Provider,
    TimeSpan Interval,
    long Accepted,
    long Rejected,
    long ServerErrors,
    IReadOnlyList<long> LatencyBucketCounts,
    string Instance) : IIntegrationEvent
{
    /// <summary>Upper bounds of the latency buckets in milliseconds; <see cref="LatencyBucketCounts"/> has one more bucket (+∞).</summary>
    public static IReadOnlyList<double> LatencyBucketBoundsMs { get; } = Array.AsReadOnly<double>([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]);

    /// <summary>The number of latency buckets, +∞ included.</summary>
    public static int LatencyBucketCount => LatencyBucketBoundsMs.Count + 1;
}
