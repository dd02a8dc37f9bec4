using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Sinks;

/// <summary>The audio coding on the provider's wire.</summary>
public enum WireEncoding
{
    /// <summary>G.711 μ-law (Twilio's <c>audio/x-mulaw</c>, Telnyx <c>PCMU</c>).</summary>
    MuLaw,

    /// <summary>G.711 A-law (Telnyx <c>PCMA</c>).</summary>
    ALaw,

    /// <summary>Linear PCM16 (Telnyx <c>L16</c> when requested): big-endian on the wire, as L16 in RTP (RFC 3551); see WireCodec.</summary>
    L16,
}

/// <summary>Which side of the call a frame belongs to: the caller (inbound) or what is played to them (outbound).</summary>
public enum MediaTrack
{
    Inbound,
    Outbound,
}

/// <summary>One started media stream, as every sink is told about it.</summary>
/// <param name="StreamId">Twilio <c>streamSid</c> / Telnyx <c>stream_id</c>.</param>
/// <param name="CallId">The provider call id the stream token vouched for (Twilio CallSid, Telnyx call_control_id).</param>
/// <param name="SampleRate">The wire rate (8000 for G.711); audio handed to sinks is PCM16 at this rate.</param>
/// <param name="Parameters">Twilio <c>customParameters</c> / Telnyx query and client state, minus the token.</param>
public sealed record MediaStreamInfo(
    TelephonyProvider Provider,
    string StreamId,
    string CallId,
    string? SessionId,
    WireEncoding Encoding,
    int SampleRate,
    IReadOnlyList<MediaTrack> Tracks,
    IReadOnlyDictionary<string, string> Parameters,
    DateTimeOffset StartedAt);

/// <summary>
/// A consumer of one stream's audio (the recorder, an AI agent). The stream pipeline calls it from one pump task
/// per sink, in order, never concurrently, behind a bounded queue: a slow sink loses frames (counted), it never
/// blocks the provider's socket. A sink that throws is stopped and disposed; the stream carries on without it.
/// </summary>
public interface IMediaSink : IAsyncDisposable
{
    /// <summary>For logs and metrics (<c>recorder</c>, <c>agent</c>).</summary>
    string Name { get; }

    /// <summary>
    /// Decoded, in-order PCM16 at <see cref="MediaStreamInfo.SampleRate"/>, normally 20 ms. <paramref name="streamTime"/>
    /// is the frame's position in the stream (the provider's timestamp). The memory is only valid during the call.
    /// </summary>
    ValueTask OnAudioAsync(MediaTrack track, ReadOnlyMemory<short> pcm, TimeSpan streamTime, CancellationToken cancellationToken);

    ValueTask OnDtmfAsync(string digit, CancellationToken cancellationToken);

    /// <summary>The provider played up to a mark we sent (or dropped it on <c>clear</c>).</summary>
    ValueTask OnMarkAsync(string name, CancellationToken cancellationToken);

    /// <summary>The stream ended (stop, close, or error); <paramref name="reason"/> is the pipeline's.</summary>
    ValueTask OnStopAsync(string reason, CancellationToken cancellationToken);
}

/// <summary>
/// The way back to the provider on a bidirectional stream. The pipeline resamples to the wire rate, encodes to the
/// wire codec, cuts 20 ms frames and sends them paced in real time (never all at once, never an empty frame).
/// </summary>
public interface IProviderOutput
{
    /// <summary>Queues PCM16 at <paramref name="sampleRate"/> (8, 16, 24 or 48 kHz) to be played to the caller.</summary>
    ValueTask SendAudioAsync(ReadOnlyMemory<short> pcm, int sampleRate, CancellationToken cancellationToken);

    /// <summary>Sends a mark after the audio queued so far; the provider echoes it when played (see <see cref="IMediaSink.OnMarkAsync"/>).</summary>
    ValueTask SendMarkAsync(string name, CancellationToken cancellationToken);

    /// <summary>Barge-in: drops our queued audio and sends <c>clear</c> so the provider drops its buffer too.</summary>
    ValueTask ClearAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Makes the sinks for a stream when it starts (zero or more: e.g. none when recording is not allowed). Registered
/// in DI; the pipeline asks every factory.
/// </summary>
public interface IMediaSinkFactory
{
    ValueTask<IMediaSink?> CreateAsync(MediaStreamInfo stream, IProviderOutput output, CancellationToken cancellationToken);
}
