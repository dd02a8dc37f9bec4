namespace VoiceKraliki.Contracts;

public sealed record MediaStreamEnded(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    TelephonyProvider Provider,
    string StreamId,
    string Reason,
    long FramesReceived,
    long FramesSent,
    TimeSpan Duration,
    string? ProviderCallId = null) : IIntegrationEvent;
