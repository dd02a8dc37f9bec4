using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Sinks;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>
/// Reads Twilio's (PROTOCOLS.md §3) and Telnyx's (§6) media-stream messages with a <see cref="Utf8JsonReader"/> over the
/// raw bytes, in one pass, in any property order. A media message allocates nothing: numbers are read from the bytes
/// (both providers send them as JSON strings; numbers are accepted too) and the base64 payload is decoded straight
/// into the caller's buffer. Start, DTMF, mark and error messages are rare and may allocate.
/// </summary>
internal static class MediaMessageParser
{
    public const string MalformedJson = "malformed JSON message";
    public const string NoEvent = "message without a top-level string event";
    public const string BadPayload = "media payload is not valid base64";
    public const string EmptyPayload = "media without a payload";
    public const string BadTrack = "unknown media track";
    public const string BadNumber = "sequence, chunk and timestamp must be non-negative integers";
    public const string BadStart = "start without a stream id and call id";
    public const string BadFormat = "start with a malformed media format";
    public const string NoMediaFormat = "start without media_format.encoding";
    public const string BadDtmf = "dtmf without a digit";
    public const string BadMark = "mark without a name";

    private const int MaxEventLabelLength = 32;

    /// <summary>
    /// Parses <paramref name="json"/> into <paramref name="message"/>; a media payload is decoded into
    /// <paramref name="payload"/>, which must be at least as long as <paramref name="json"/>. On failure
    /// <paramref name="error"/> is a short reason fit for a WebSocket close frame. Never throws on bad input.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> json, TelephonyProvider provider, MediaMessage message, Span<byte> payload, out string error)
    {
        message.Reset();
        var twilio = provider == TelephonyProvider.Twilio;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = NoEvent;
                return false;
            }

            var hasEvent = false;
            string? topLevelStreamId = null;
            var streamIdAt = default(Utf8JsonReader);
            var hasStreamId = false;
            StartFields? start = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("event"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        error = NoEvent;
                        return false;
                    }

                    ReadEvent(ref reader, message);
                    hasEvent = true;
                }
                else if (reader.ValueTextEquals(twilio ? "sequenceNumber"u8 : "sequence_number"u8))
                {
                    reader.Read();
                    if (!TryReadCount(ref reader, out var sequence))
                    {
                        error = BadNumber;
                        return false;
                    }

                    message.SequenceNumber = sequence;
                }
                else if (reader.ValueTextEquals(twilio ? "streamSid"u8 : "stream_id"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        // Kept as a reader position and only turned into a string for a start: media frames carry it too.
                        streamIdAt = reader;
                        hasStreamId = true;
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("media"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }

                    if (!TryReadMedia(ref reader, message, payload, out error))
                    {
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("start"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        reader.Skip();
                        continue;
                    }

                    start = new StartFields();
                    if (!TryReadStart(ref reader, twilio, start, out error))
                    {
                        return false;
                    }
                }
                else if (reader.ValueTextEquals("dtmf"u8))
                {
                    reader.Read();
                    message.Digit = ReadStringProperty(ref reader, "digit"u8);
                }
                else if (reader.ValueTextEquals("mark"u8))
                {
                    reader.Read();
                    message.MarkName = ReadStringProperty(ref reader, "name"u8);
                }
                else if (!twilio && reader.ValueTextEquals("payload"u8))
                {
                    reader.Read();
                    ReadTelnyxError(ref reader, message);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }

            // A document that ended early, or anything after the object, makes the reader throw here.
            while (reader.Read())
            {
            }

            if (!hasEvent)
            {
                error = NoEvent;
                return false;
            }

            if (hasStreamId)
            {
                if (message.Kind == MediaEventKind.Start)
                {
                    topLevelStreamId = streamIdAt.GetString();
                }
            }

            return Validate(message, twilio, start, topLevelStreamId, out error);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string that is not valid UTF-8 cannot be transcoded.
            message.Reset();
            error = MalformedJson;
            return false;
        }
    }

    /// <summary>An event name fit for a metric label: lower-case <c>[a-z0-9_]</c>, at most 32 characters.</summary>
    public static string SanitizeEventName(string name)
    {
        var length = Math.Min(name.Length, MaxEventLabelLength);
        if (length == 0)
        {
            return "empty";
        }

        return string.Create(length, name, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                var c = char.ToLowerInvariant(source[i]);
                span[i] = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) ? c : '_';
            }
        });
    }

    private static bool Validate(MediaMessage message, bool twilio, StartFields? start, string? topLevelStreamId, out string error)
    {
        error = string.Empty;
        switch (message.Kind)
        {
            case MediaEventKind.Media when !message.HasPayload || message.PayloadLength == 0:
                error = EmptyPayload;
                return false;
            case MediaEventKind.Start:
                var streamId = start?.StreamId ?? topLevelStreamId;
                if (start is null || string.IsNullOrEmpty(streamId) || string.IsNullOrEmpty(start.CallId))
                {
                    error = BadStart;
                    return false;
                }

                if (!twilio && string.IsNullOrEmpty(start.Encoding))
                {
                    error = NoMediaFormat;
                    return false;
                }

                message.Start = new StreamStart(
                    streamId, start.CallId, start.Encoding, start.SampleRate, start.Channels, start.Tracks, start.CustomParameters, start.ClientState);
                return true;
            case MediaEventKind.Dtmf when string.IsNullOrEmpty(message.Digit):
                error = BadDtmf;
                return false;
            case MediaEventKind.Mark when string.IsNullOrEmpty(message.MarkName):
                error = BadMark;
                return false;
            default:
                return true;
        }
    }

    private static void ReadEvent(ref Utf8JsonReader reader, MediaMessage message)
    {
        message.Kind =
            reader.ValueTextEquals("media"u8) ? MediaEventKind.Media
            : reader.ValueTextEquals("start"u8) ? MediaEventKind.Start
            : reader.ValueTextEquals("connected"u8) ? MediaEventKind.Connected
            : reader.ValueTextEquals("dtmf"u8) ? MediaEventKind.Dtmf
            : reader.ValueTextEquals("mark"u8) ? MediaEventKind.Mark
            : reader.ValueTextEquals("stop"u8) ? MediaEventKind.Stop
            : reader.ValueTextEquals("error"u8) ? MediaEventKind.Error
            : MediaEventKind.Unknown;
        message.UnknownEvent = message.Kind == MediaEventKind.Unknown ? SanitizeEventName(reader.GetString()!) : null;
    }

    private static bool TryReadMedia(ref Utf8JsonReader reader, MediaMessage message, Span<byte> payload, out string error)
    {
        error = string.Empty;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("payload"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String || !TryDecodeBase64(ref reader, payload, out var written))
                {
                    error = BadPayload;
                    return false;
                }

                message.HasPayload = true;
                message.PayloadLength = written;
            }
            else if (reader.ValueTextEquals("chunk"u8))
            {
                reader.Read();
                if (!TryReadCount(ref reader, out var chunk))
                {
                    error = BadNumber;
                    return false;
                }

                message.Chunk = chunk;
            }
            else if (reader.ValueTextEquals("timestamp"u8))
            {
                reader.Read();
                if (!TryReadCount(ref reader, out var timestamp))
                {
                    error = BadNumber;
                    return false;
                }

                message.TimestampMs = timestamp;
            }
            else if (reader.ValueTextEquals("track"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String || !TryReadTrack(ref reader, out var track))
                {
                    error = BadTrack;
                    return false;
                }

                message.Track = track;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return true;
    }

    private static bool TryReadStart(ref Utf8JsonReader reader, bool twilio, StartFields start, out string error)
    {
        error = string.Empty;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(twilio ? "callSid"u8 : "call_control_id"u8))
            {
                reader.Read();
                start.CallId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (twilio && reader.ValueTextEquals("streamSid"u8))
            {
                reader.Read();
                start.StreamId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("tracks"u8))
            {
                reader.Read();
                if (!TryReadTracks(ref reader, out var tracks))
                {
                    error = BadTrack;
                    return false;
                }

                start.Tracks = tracks;
            }
            else if (reader.ValueTextEquals(twilio ? "mediaFormat"u8 : "media_format"u8))
            {
                reader.Read();
                if (!TryReadMediaFormat(ref reader, twilio, start))
                {
                    error = BadFormat;
                    return false;
                }
            }
            else if (reader.ValueTextEquals(twilio ? "customParameters"u8 : "custom_parameters"u8))
            {
                reader.Read();
                start.CustomParameters = ReadStringMap(ref reader);
            }
            else if (!twilio && reader.ValueTextEquals("client_state"u8))
            {
                reader.Read();
                start.ClientState = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (!twilio && (reader.ValueTextEquals("from"u8) || reader.ValueTextEquals("to"u8)))
            {
                // Telnyx names the parties in start; Twilio streams get them as custom parameters from our TwiML.
                var name = reader.ValueTextEquals("from"u8) ? "from" : "to";
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && reader.GetString() is { Length: > 0 and <= 256 } number)
                {
                    (start.Parties ??= new(StringComparer.Ordinal))[name] = number;
                }

                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        foreach (var (name, number) in start.Parties ?? [])
        {
            start.CustomParameters.TryAdd(name, number);
        }

        return true;
    }

    private static bool TryReadMediaFormat(ref Utf8JsonReader reader, bool twilio, StartFields start)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("encoding"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.String)
                {
                    return false;
                }

                start.Encoding = reader.GetString();
            }
            else if (reader.ValueTextEquals(twilio ? "sampleRate"u8 : "sample_rate"u8))
            {
                reader.Read();
                if (!TryReadCount(ref reader, out var rate) || rate > int.MaxValue)
                {
                    return false;
                }

                start.SampleRate = (int)rate;
            }
            else if (reader.ValueTextEquals("channels"u8))
            {
                reader.Read();
                if (!TryReadCount(ref reader, out var channels) || channels > int.MaxValue)
                {
                    return false;
                }

                start.Channels = (int)channels;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return true;
    }

    private static bool TryReadTracks(ref Utf8JsonReader reader, out List<MediaTrack> tracks)
    {
        tracks = [];
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            return false;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.String || !TryReadTrack(ref reader, out var track))
            {
                return false;
            }

            if (!tracks.Contains(track))
            {
                tracks.Add(track);
            }
        }

        return true;
    }

    private static bool TryReadTrack(ref Utf8JsonReader reader, out MediaTrack track)
    {
        // Twilio names media tracks "inbound"/"outbound" and DTMF tracks "inbound_track"; Telnyx configures "*_track".
        if (reader.ValueTextEquals("inbound"u8) || reader.ValueTextEquals("inbound_track"u8))
        {
            track = MediaTrack.Inbound;
            return true;
        }

        if (reader.ValueTextEquals("outbound"u8) || reader.ValueTextEquals("outbound_track"u8))
        {
            track = MediaTrack.Outbound;
            return true;
        }

        track = default;
        return false;
    }

    private static Dictionary<string, string> ReadStringMap(ref Utf8JsonReader reader)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return map;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            reader.Read();
            if (reader.TokenType == JsonTokenType.String)
            {
                map[name] = reader.GetString()!;
            }
            else
            {
                reader.Skip();
            }
        }

        return map;
    }

    /// <summary>The string property <paramref name="name"/> of the object the reader is at; null if absent or not a string.</summary>
    private static string? ReadStringProperty(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = reader.ValueTextEquals(name);
            reader.Read();
            if (match && reader.TokenType == JsonTokenType.String)
            {
                value = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }

        return value;
    }

    private static void ReadTelnyxError(ref Utf8JsonReader reader, MediaMessage message)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("code"u8))
            {
                reader.Read();
                message.ErrorCode = reader.TokenType switch
                {
                    JsonTokenType.String => reader.GetString(),
                    JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
                    _ => null,
                };
                reader.Skip();
            }
            else if (reader.ValueTextEquals("title"u8))
            {
                reader.Read();
                message.ErrorTitle = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
    }

    /// <summary>A non-negative integer given as a JSON number or as a string of digits.</summary>
    private static bool TryReadCount(ref Utf8JsonReader reader, out long value)
    {
        value = 0;
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.TryGetInt64(out value) && value >= 0;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            return false;
        }

        if (!reader.ValueIsEscaped)
        {
            return TryParseCount(reader.ValueSpan, out value);
        }

        // Digits never need escaping, but "\u0031" is still a valid spelling of "1".
        Span<byte> unescaped = stackalloc byte[128];
        if (reader.ValueSpan.Length > unescaped.Length)
        {
            return false;
        }

        var length = reader.CopyString(unescaped);
        return TryParseCount(unescaped[..length], out value);
    }

    private static bool TryParseCount(ReadOnlySpan<byte> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty || digits[0] is (byte)'-' or (byte)'+')
        {
            return false;
        }

        return Utf8Parser.TryParse(digits, out value, out var consumed) && consumed == digits.Length;
    }

    private static bool TryDecodeBase64(ref Utf8JsonReader reader, Span<byte> destination, out int written)
    {
        written = 0;
        var text = reader.ValueSpan;
        if (text.Length > destination.Length)
        {
            return false;
        }

        if (!reader.ValueIsEscaped)
        {
            return Base64.DecodeFromUtf8(text, destination, out var consumed, out written) == OperationStatus.Done
                   && consumed == text.Length;
        }

        // Some JSON writers escape '/' as "\/": unescape into the destination, then decode it in place.
        var length = reader.CopyString(destination);
        return Base64.DecodeFromUtf8InPlace(destination[..length], out written) == OperationStatus.Done;
    }

    private sealed class StartFields
    {
        public string? StreamId { get; set; }

        public string? CallId { get; set; }

        public string? Encoding { get; set; }

        public int? SampleRate { get; set; }

        public int? Channels { get; set; }

        public List<MediaTrack>? Tracks { get; set; }

        public Dictionary<string, string> CustomParameters { get; set; } = new(StringComparer.Ordinal);

        /// <summary>Telnyx <c>start.from</c> / <c>start.to</c>, merged into the custom parameters unless those name them.</summary>
        public Dictionary<string, string>? Parties { get; set; }

        public string? ClientState { get; set; }
    }
}
