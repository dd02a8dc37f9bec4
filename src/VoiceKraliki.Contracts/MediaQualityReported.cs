namespace VoiceKraliki.Contracts;

/// <summary>Audio quality of one stream over a reporting interval.</summary>
public sealed record MediaQualityReported(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    TelephonyProvider Provider,
    string StreamId,
    TimeSpan Interval,
    long FramesExpected,
    long FramesReceived,
    double PacketLossRatio,
    double JitterMilliseconds,
    long OutOfOrderFrames,
    double EstimatedMos) : IIntegrationEvent;
