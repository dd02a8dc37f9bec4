namespace VoiceKraliki.Contracts;

/// <summary>
/// Audio quality of one stream: every 10 s over that interval, and a final report (<see cref="Final"/>) over the whole
/// stream when it ends.
/// </summary>
/// <param name="JitterMilliseconds">RFC 3550 interarrival jitter at the end of the interval.</param>
/// <param name="LostFrames">
/// Frames the provider's numbering says were sent but that were not there in time to be played: never arrived, or
/// arrived after the jitter buffer gave up on them (those count in <see cref="LateFrames"/> too).
/// </param>
/// <param name="LateFrames">Frames that arrived after the jitter buffer had played past them.</param>
/// <param name="SilenceRatio">Share of received frames below the silence threshold.</param>
/// <param name="DroppedFrames">Frames a slow sink could not take (its queue was full).</param>
/// <param name="Final">The report sent when the stream ended.</param>
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
    double EstimatedMos,
    string? ProviderCallId = null,
    long LostFrames = 0,
    long LateFrames = 0,
    double SilenceRatio = 0,
    long DroppedFrames = 0,
    bool Final = false) : IIntegrationEvent;
