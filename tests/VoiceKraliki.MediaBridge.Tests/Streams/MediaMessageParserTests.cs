using System.Text;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Streams;

namespace VoiceKraliki.MediaBridge.Tests.Streams;

/// <summary>Every message of PROTOCOLS.md §3 (Twilio) and §6 (Telnyx), and what must not parse.</summary>
public class MediaMessageParserTests
{
    private readonly byte[] _payload = new byte[4096];

    private (bool Ok, MediaMessage Message, string Error) Parse(string json, TelephonyProvider provider = TelephonyProvider.Twilio)
    {
        var message = new MediaMessage();
        var ok = MediaMessageParser.TryParse(Encoding.UTF8.GetBytes(json), provider, message, _payload, out var error);
        return (ok, message, error);
    }

    private MediaMessage Ok(string json, TelephonyProvider provider = TelephonyProvider.Twilio)
    {
        var (ok, message, error) = Parse(json, provider);
        Assert.True(ok, error);
        return message;
    }

    [Fact]
    public void Twilio_connected()
    {
        Assert.Equal(MediaEventKind.Connected, Ok("""{"event":"connected","protocol":"Call","version":"1.0.0"}""").Kind);
    }

    [Fact]
    public void Twilio_start_with_its_ids_format_tracks_and_custom_parameters()
    {
        var message = Ok("""{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound","outbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"token":"t.k","sessionId":"s-9"}},"streamSid":"MZ1"}""");

        Assert.Equal(MediaEventKind.Start, message.Kind);
        Assert.Equal(1, message.SequenceNumber);
        var start = message.Start!;
        Assert.Equal(("MZ1", "CA1", "audio/x-mulaw", 8000, 1), (start.StreamId, start.CallId, start.Encoding, start.SampleRate!.Value, start.Channels!.Value));
        Assert.Equal([MediaTrack.Inbound, MediaTrack.Outbound], start.Tracks!);
        Assert.Equal("t.k", start.CustomParameters["token"]);
        Assert.Equal("s-9", start.CustomParameters["sessionId"]);
    }

    [Fact]
    public void Twilio_media_with_its_numbers_as_strings_and_the_payload_decoded()
    {
        var message = Ok("""{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"52","payload":"/////w=="},"streamSid":"MZ1"}""");

        Assert.Equal(MediaEventKind.Media, message.Kind);
        Assert.Equal((2L, 1L, 52L, MediaTrack.Inbound), (message.SequenceNumber!.Value, message.Chunk!.Value, message.TimestampMs!.Value, message.Track));
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, _payload[..message.PayloadLength]);
        Assert.Null(message.Start);
    }

    [Fact]
    public void Twilio_outbound_media()
    {
        Assert.Equal(MediaTrack.Outbound, Ok("""{"event":"media","media":{"track":"outbound","chunk":"3","timestamp":"40","payload":"AA=="}}""").Track);
    }

    [Fact]
    public void Twilio_dtmf_mark_and_stop()
    {
        var dtmf = Ok("""{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}""");
        Assert.Equal((MediaEventKind.Dtmf, "1"), (dtmf.Kind, dtmf.Digit));

        var mark = Ok("""{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"label"}}""");
        Assert.Equal((MediaEventKind.Mark, "label"), (mark.Kind, mark.MarkName));

        Assert.Equal(MediaEventKind.Stop, Ok("""{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"AC1","callSid":"CA1"},"streamSid":"MZ1"}""").Kind);
    }

    [Fact]
    public void Telnyx_connected_and_start_with_its_media_format_custom_parameters_and_client_state()
    {
        Assert.Equal(MediaEventKind.Connected, Ok("""{"event":"connected","version":"1.0.0"}""", TelephonyProvider.Telnyx).Kind);

        var message = Ok("""{"event":"start","sequence_number":"1","start":{"user_id":"u","call_control_id":"v3:abc","call_session_id":"x","from":"+13122010094","to":"+13122123456","tags":["A"],"client_state":"aGk=","custom_parameters":{"k":"v"},"media_format":{"encoding":"PCMA","sample_rate":8000,"channels":1}},"stream_id":"32DE0DEA"}""", TelephonyProvider.Telnyx);

        var start = message.Start!;
        Assert.Equal(("32DE0DEA", "v3:abc", "PCMA", 8000, 1), (start.StreamId, start.CallId, start.Encoding, start.SampleRate!.Value, start.Channels!.Value));
        Assert.Equal("v", start.CustomParameters["k"]);
        Assert.Equal("aGk=", start.ClientState);
        Assert.Null(start.Tracks);

        // The parties reach the sinks as from/to parameters (the recorder's erasure by number needs them).
        Assert.Equal(("+13122010094", "+13122123456"), (start.CustomParameters["from"], start.CustomParameters["to"]));
    }

    [Fact]
    public void Telnyx_parties_named_in_custom_parameters_are_not_overwritten_whatever_the_order()
    {
        var start = Ok("""{"event":"start","start":{"call_control_id":"v3:abc","from":"+13122010094","custom_parameters":{"from":"+15550000000"},"media_format":{"encoding":"PCMU","sample_rate":8000,"channels":1}},"stream_id":"s"}""", TelephonyProvider.Telnyx).Start!;
        Assert.Equal("+15550000000", start.CustomParameters["from"]);
        Assert.False(start.CustomParameters.ContainsKey("to"));
    }

    [Fact]
    public void Telnyx_media_dtmf_mark_error_and_stop()
    {
        var media = Ok("""{"event":"media","sequence_number":"4","media":{"track":"inbound","chunk":"2","timestamp":"40","payload":"1dXV1Q=="},"stream_id":"s1"}""", TelephonyProvider.Telnyx);
        Assert.Equal((4L, 2L, 40L), (media.SequenceNumber!.Value, media.Chunk!.Value, media.TimestampMs!.Value));
        Assert.Equal(new byte[] { 0xD5, 0xD5, 0xD5, 0xD5 }, _payload[..media.PayloadLength]);

        var numbers = Ok("""{"event":"media","sequence_number":4,"media":{"chunk":2,"timestamp":40,"payload":"AAAA"},"stream_id":"s1"}""", TelephonyProvider.Telnyx);
        Assert.Equal((2L, 40L, MediaTrack.Inbound), (numbers.Chunk!.Value, numbers.TimestampMs!.Value, numbers.Track));

        var dtmf = Ok("""{"event":"dtmf","stream_id":"s1","occurred_at":"2026-01-01T00:00:00Z","sequence_number":"5","dtmf":{"digit":"#"}}""", TelephonyProvider.Telnyx);
        Assert.Equal("#", dtmf.Digit);

        Assert.Equal("m1", Ok("""{"event":"mark","sequence_number":"6","stream_id":"s1","mark":{"name":"m1"}}""", TelephonyProvider.Telnyx).MarkName);

        var error = Ok("""{"event":"error","sequence_number":"9","stream_id":"s1","payload":{"code":100002,"title":"Unknown error","detail":"x"}}""", TelephonyProvider.Telnyx);
        Assert.Equal((MediaEventKind.Error, "100002", "Unknown error"), (error.Kind, error.ErrorCode, error.ErrorTitle));

        Assert.Equal(MediaEventKind.Stop, Ok("""{"stream_id":"s1","sequence_number":"10","stop":{"call_control_id":"v3:abc"},"event":"stop"}""", TelephonyProvider.Telnyx).Kind);
    }

    [Fact]
    public void Properties_may_come_in_any_order_and_escaped()
    {
        var message = Ok("""{"media":{"payload":"\/\/\/\/","timestamp":"\u0034\u0030","chunk":"3"},"ev\u0065nt":"media"}""");

        Assert.Equal((MediaEventKind.Media, 3L, 40L), (message.Kind, message.Chunk!.Value, message.TimestampMs!.Value));
        Assert.Equal(new byte[] { 0xFF, 0xFF, 0xFF }, _payload[..message.PayloadLength]);
    }

    [Fact]
    public void A_start_stream_id_may_be_only_at_the_top_level()
    {
        var message = Ok("""{"event":"start","start":{"callSid":"CA1"},"streamSid":"MZ7"}""");

        Assert.Equal("MZ7", message.Start!.StreamId);
    }

    [Fact]
    public void An_unknown_event_is_parsed_with_a_sanitized_name()
    {
        var message = Ok("""{"event":"Vendor-Thing.v2 with a very long name indeed, longer than thirty-two"}""");

        Assert.Equal(MediaEventKind.Unknown, message.Kind);
        Assert.Equal("vendor_thing_v2_with_a_very_long", message.UnknownEvent);
    }

    [Theory]
    [InlineData("""{"event":"media","media":{"payload":"!!!!"}}""", MediaMessageParser.BadPayload)]
    [InlineData("""{"event":"media","media":{"payload":"AAA"}}""", MediaMessageParser.BadPayload)]
    [InlineData("""{"event":"media","media":{"payload":42}}""", MediaMessageParser.BadPayload)]
    [InlineData("""{"event":"media","media":{"payload":""}}""", MediaMessageParser.EmptyPayload)]
    [InlineData("""{"event":"media","media":{"chunk":"1"}}""", MediaMessageParser.EmptyPayload)]
    [InlineData("""{"event":"media"}""", MediaMessageParser.EmptyPayload)]
    [InlineData("""{"event":"media","media":{"chunk":"-1","payload":"AAAA"}}""", MediaMessageParser.BadNumber)]
    [InlineData("""{"event":"media","media":{"chunk":"1x","payload":"AAAA"}}""", MediaMessageParser.BadNumber)]
    [InlineData("""{"event":"media","media":{"timestamp":true,"payload":"AAAA"}}""", MediaMessageParser.BadNumber)]
    [InlineData("""{"event":"media","sequenceNumber":"99999999999999999999","media":{"payload":"AAAA"}}""", MediaMessageParser.BadNumber)]
    [InlineData("""{"event":"media","media":{"track":"sideways","payload":"AAAA"}}""", MediaMessageParser.BadTrack)]
    [InlineData("""{"event":"start","start":{"streamSid":"MZ1"}}""", MediaMessageParser.BadStart)]
    [InlineData("""{"event":"start","start":{"callSid":"CA1"}}""", MediaMessageParser.BadStart)]
    [InlineData("""{"event":"start","start":{"callSid":"CA1","streamSid":"MZ1","mediaFormat":{"sampleRate":"fast"}}}""", MediaMessageParser.BadFormat)]
    [InlineData("""{"event":"dtmf","dtmf":{}}""", MediaMessageParser.BadDtmf)]
    [InlineData("""{"event":"mark","mark":{"name":7}}""", MediaMessageParser.BadMark)]
    public void Twilio_messages_with_bad_fields_are_rejected_with_a_reason(string json, string reason)
    {
        var (ok, _, error) = Parse(json);

        Assert.False(ok);
        Assert.Equal(reason, error);
    }

    [Fact]
    public void A_telnyx_start_without_an_encoding_is_rejected_rather_than_guessed()
    {
        var (ok, _, error) = Parse("""{"event":"start","start":{"call_control_id":"v3:1"},"stream_id":"s1"}""", TelephonyProvider.Telnyx);

        Assert.False(ok);
        Assert.Equal(MediaMessageParser.NoMediaFormat, error);
    }

    [Theory]
    [InlineData("""{"media":{"event":"media"}}""", MediaMessageParser.NoEvent)]
    [InlineData("""{"event":42}""", MediaMessageParser.NoEvent)]
    [InlineData("""{"event":null}""", MediaMessageParser.NoEvent)]
    [InlineData("""{}""", MediaMessageParser.NoEvent)]
    [InlineData("""["event","media"]""", MediaMessageParser.NoEvent)]
    [InlineData("\"media\"", MediaMessageParser.NoEvent)]
    [InlineData("", MediaMessageParser.MalformedJson)]
    [InlineData("""{"event":"media""", MediaMessageParser.MalformedJson)]
    [InlineData("""{"event":"media","media":{"payload":"AAAA""", MediaMessageParser.MalformedJson)]
    [InlineData("""{"event":"stop","stop":{""", MediaMessageParser.MalformedJson)]
    [InlineData("""{"event":"stop"}}""", MediaMessageParser.MalformedJson)]
    [InlineData("""{"event":"stop"} {"event":"stop"}""", MediaMessageParser.MalformedJson)]
    [InlineData("""{"event":"stop"} x""", MediaMessageParser.MalformedJson)]
    [InlineData("""{'event':'stop'}""", MediaMessageParser.MalformedJson)]
    [InlineData("""{"event":"stop",}""", MediaMessageParser.MalformedJson)]
    [InlineData("""{"event":"stop" /* comment */}""", MediaMessageParser.MalformedJson)]
    [InlineData("not json at all", MediaMessageParser.MalformedJson)]
    public void Truncated_or_malformed_json_or_no_top_level_event_is_rejected(string json, string reason)
    {
        var (ok, _, error) = Parse(json);

        Assert.False(ok);
        Assert.Equal(reason, error);
    }

    [Fact]
    public void Nesting_deeper_than_the_reader_allows_is_rejected_not_thrown()
    {
        var (ok, _, error) = Parse("""{"event":"stop","x":""" + new string('[', 64) + new string(']', 64) + "}");

        Assert.False(ok);
        Assert.Equal(MediaMessageParser.MalformedJson, error);
    }

    [Fact]
    public void Invalid_utf8_in_a_string_that_is_read_is_rejected_not_thrown()
    {
        byte[] json = [.. "{\"event\":\"start\",\"start\":{\"callSid\":\""u8, 0xC3, 0x28, .. "\",\"streamSid\":\"MZ1\"}}"u8];
        var message = new MediaMessage();

        Assert.False(MediaMessageParser.TryParse(json, TelephonyProvider.Twilio, message, _payload, out var error));
        Assert.Equal(MediaMessageParser.MalformedJson, error);
    }

    [Fact]
    public void Parsing_a_media_frame_allocates_nothing()
    {
        var json = Encoding.UTF8.GetBytes("""{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"52","payload":"/////w=="},"streamSid":"MZ1"}""");
        var message = new MediaMessage();
        MediaMessageParser.TryParse(json, TelephonyProvider.Twilio, message, _payload, out _);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            MediaMessageParser.TryParse(json, TelephonyProvider.Twilio, message, _payload, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
