using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Sinks.Agent;

/// <summary>What a text message from the agent asks for.</summary>
internal enum AgentCommand
{
    /// <summary>Not a JSON object with a string <c>event</c> (or a <c>mark</c> without a usable name).</summary>
    Malformed,

    /// <summary>Valid, but not an event we act on.</summary>
    Other,

    Mark,

    Clear,
}

/// <summary>The JSON side of the agent protocol (docs/media-agent-protocol.md): messages we send and the ones we read.</summary>
internal sealed class AgentProtocol
{
    public const string Encoding = "pcm_s16le";

    /// <summary>Longer mark names are refused: they are echoed back through the provider, which limits them too.</summary>
    public const int MaxMarkNameLength = 256;

    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _writer;

    public AgentProtocol()
    {
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public ReadOnlyMemory<byte> Start(MediaStreamInfo stream, int sampleRate)
    {
        var w = Begin("start");
        w.WriteString("callId", stream.CallId);
        w.WriteString("streamId", stream.StreamId);
        if (stream.SessionId is { } session)
        {
            w.WriteString("sessionId", session);
        }

        w.WriteString("provider", stream.Provider == TelephonyProvider.Twilio ? "twilio" : "telnyx");
        w.WriteNumber("sampleRate", sampleRate);
        w.WriteString("encoding", Encoding);
        w.WriteStartObject("parameters");
        foreach (var (name, value) in stream.Parameters)
        {
            if (name != AgentSinkFactory.AgentUrlParameter)
            {
                w.WriteString(name, value);
            }
        }

        w.WriteEndObject();
        return End();
    }

    public ReadOnlyMemory<byte> Dtmf(string digit)
    {
        var w = Begin("dtmf");
        w.WriteString("digit", digit);
        return End();
    }

    public ReadOnlyMemory<byte> Mark(string name)
    {
        var w = Begin("mark");
        w.WriteString("name", name);
        return End();
    }

    public ReadOnlyMemory<byte> Stop()
    {
        Begin("stop");
        return End();
    }

    /// <summary>Reads a text message from the agent without materializing it; <paramref name="markName"/> is set for a mark.</summary>
    public static AgentCommand Parse(ReadOnlySpan<byte> json, out string? markName)
    {
        markName = null;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return AgentCommand.Malformed;
            }

            string? eventName = null;
            string? name = null;
            while (reader.Read() && !(reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0))
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                {
                    continue;
                }

                var isEvent = reader.ValueTextEquals("event"u8);
                var isName = reader.ValueTextEquals("name"u8);
                reader.Read();
                if (isEvent && reader.TokenType == JsonTokenType.String)
                {
                    eventName = reader.GetString();
                }
                else if (isName && reader.TokenType == JsonTokenType.String)
                {
                    name = reader.GetString();
                }
                else
                {
                    reader.Skip();
                }
            }

            // Reading to the end validates the whole document, not just its start.
            while (reader.Read())
            {
            }

            switch (eventName)
            {
                case null:
                    return AgentCommand.Malformed;
                case "clear":
                    return AgentCommand.Clear;
                case "mark" when name is { Length: > 0 and <= MaxMarkNameLength }:
                    markName = name;
                    return AgentCommand.Mark;
                case "mark":
                    return AgentCommand.Malformed;
                default:
                    return AgentCommand.Other;
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string that is not valid UTF-8 cannot be transcoded.
            return AgentCommand.Malformed;
        }
    }

    private Utf8JsonWriter Begin(string eventName)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        _writer.WriteStartObject();
        _writer.WriteString("event", eventName);
        return _writer;
    }

    private ReadOnlyMemory<byte> End()
    {
        _writer.WriteEndObject();
        _writer.Flush();
        return _buffer.WrittenMemory;
    }
}
