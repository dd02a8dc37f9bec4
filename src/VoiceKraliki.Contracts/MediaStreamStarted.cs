namespace VoiceKraliki.Contracts;

public sealed record MediaStreamStarted(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    TelephonyProvider Provider,
    string StreamId,
    string Encoding,
    int SampleRate,
    int Channels,
    IReadOnlyList<string> Tracks,
    string? ProviderCallId = null,
    string? SessionId = null) : IIntegrationEvent;
