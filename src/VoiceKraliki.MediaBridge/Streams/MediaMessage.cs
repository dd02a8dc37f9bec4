using VoiceKraliki.MediaBridge.Sinks;

namespace VoiceKraliki.MediaBridge.Streams;

internal enum MediaEventKind
{
    Unknown,
    Connected,
    Start,
    Media,
    Dtmf,
    Mark,
    Stop,
    Error,
}

/// <summary>
/// One provider message as parsed. A stream reuses one instance for all its messages, so that a media frame allocates
/// nothing: its payload is decoded into the caller's buffer and only <see cref="PayloadLength"/> is kept here.
/// </summary>
internal sealed class MediaMessage
{
    public MediaEventKind Kind { get; set; }

    /// <summary>For <see cref="MediaEventKind.Unknown"/>: the event name, sanitized for a metric label.</summary>
    public string? UnknownEvent { get; set; }

    /// <summary>Twilio <c>sequenceNumber</c> / Telnyx <c>sequence_number</c>: one count over all messages of the stream.</summary>
    public long? SequenceNumber { get; set; }

    public MediaTrack Track { get; set; }

    /// <summary><c>media.chunk</c>: the frame's number within its track, from 1.</summary>
    public long? Chunk { get; set; }

    /// <summary><c>media.timestamp</c>: milliseconds from the start of the stream.</summary>
    public long? TimestampMs { get; set; }

    public bool HasPayload { get; set; }

    /// <summary>Bytes of the decoded payload at the start of the caller's payload buffer.</summary>
    public int PayloadLength { get; set; }

    public StreamStart? Start { get; set; }

    public string? Digit { get; set; }

    public string? MarkName { get; set; }

    /// <summary>Telnyx <c>error</c>: <c>payload.code</c> and <c>payload.title</c>.</summary>
    public string? ErrorCode { get; set; }

    public string? ErrorTitle { get; set; }

    public void Reset()
    {
        Kind = MediaEventKind.Unknown;
        UnknownEvent = null;
        SequenceNumber = null;
        Track = MediaTrack.Inbound;
        Chunk = null;
        TimestampMs = null;
        HasPayload = false;
        PayloadLength = 0;
        Start = null;
        Digit = null;
        MarkName = null;
        ErrorCode = null;
        ErrorTitle = null;
    }
}

/// <summary>
/// What a <c>start</c> message says. <paramref name="Encoding"/> is the provider's own spelling
/// (<c>audio/x-mulaw</c>, <c>PCMU</c>, <c>PCMA</c>, <c>L16</c>); <paramref name="Tracks"/> is null when the start lists none
/// (Telnyx does not). <paramref name="CustomParameters"/> still holds the token, if one was sent that way.
/// </summary>
internal sealed record StreamStart(
    string StreamId,
    string CallId,
    string? Encoding,
    int? SampleRate,
    int? Channels,
    IReadOnlyList<MediaTrack>? Tracks,
    IReadOnlyDictionary<string, string> CustomParameters,
    string? ClientState);
