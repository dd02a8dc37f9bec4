using System.Text;
using VoiceKraliki.MediaBridge.Apis;

namespace VoiceKraliki.MediaBridge.Tests.Apis;

public class TryReadEventNameTests
{
    private static (bool Ok, string Name) Read(string json)
    {
        var ok = MediaStreamApi.TryReadEventName(Encoding.UTF8.GetBytes(json), out var name);
        return (ok, name);
    }

    [Theory]
    // PROTOCOLS.md §3, Twilio Media Streams.
    [InlineData("""{"event":"connected","protocol":"Call","version":"1.0.0"}""", "connected")]
    [InlineData("""{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"k":"v"}},"streamSid":"MZ1"}""", "start")]
    [InlineData("""{"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"52","payload":"/////w=="},"streamSid":"MZ1"}""", "media")]
    [InlineData("""{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"1"}}""", "dtmf")]
    [InlineData("""{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"label"}}""", "mark")]
    [InlineData("""{"event":"stop","sequenceNumber":"5","stop":{"accountSid":"AC1","callSid":"CA1"},"streamSid":"MZ1"}""", "stop")]
    // PROTOCOLS.md §6, Telnyx media streaming.
    [InlineData("""{"event":"connected","version":"1.0.0"}""", "connected")]
    [InlineData("""{"event":"start","sequence_number":"1","start":{"user_id":"u","call_control_id":"v3:abc","media_format":{"encoding":"PCMA","sample_rate":8000,"channels":1}},"stream_id":"s1"}""", "start")]
    [InlineData("""{"event":"media","sequence_number":"4","media":{"track":"inbound","chunk":"2","timestamp":"40","payload":"1dXV1Q=="},"stream_id":"s1"}""", "media")]
    [InlineData("""{"event":"error","sequence_number":"9","stream_id":"s1","payload":{"code":100002,"title":"Unknown error"}}""", "error")]
    [InlineData("""{"stream_id":"s1","sequence_number":"10","stop":{"call_control_id":"v3:abc"},"event":"stop"}""", "stop")]
    // Shape details.
    [InlineData("""  {"event" : "media"}  """, "media")]
    [InlineData("""{"ev\u0065nt":"mark"}""", "mark")]
    [InlineData("""{"event":"vendor-extension"}""", "vendor-extension")]
    public void The_top_level_event_name_of_a_provider_message_is_read(string json, string expected)
    {
        Assert.Equal((true, expected), Read(json));
    }

    [Theory]
    [InlineData("""{"media":{"event":"stop"},"event":"media"}""", "media")]
    [InlineData("""{"event":"media","media":{"event":"stop","inner":{"event":"stop"}}}""", "media")]
    [InlineData("""{"custom":[{"event":"stop"}],"event":"mark"}""", "mark")]
    public void Event_keys_in_nested_objects_are_ignored(string json, string expected)
    {
        Assert.Equal((true, expected), Read(json));
    }

    [Theory]
    [InlineData("""{"media":{"event":"stop"}}""")]
    [InlineData("""{"event":5}""")]
    [InlineData("""{"event":null}""")]
    [InlineData("""{"event":{"name":"stop"}}""")]
    [InlineData("""{}""")]
    public void A_message_without_a_top_level_string_event_is_rejected(string json)
    {
        Assert.False(Read(json).Ok);
    }

    [Theory]
    [InlineData("")]
    [InlineData("""{"event":"media""")]
    [InlineData("""{"event":"media","media":{"payload":"AAAA""")]
    [InlineData("""{"event":"stop","stop":{""")]
    [InlineData("""{"event":"media"}}""")]
    [InlineData("""{"event":"media"} {"event":"stop"}""")]
    [InlineData("""{"event":"media"} x""")]
    [InlineData("""["event","media"]""")]
    [InlineData("\"media\"")]
    [InlineData("""{'event':'media'}""")]
    [InlineData("""{"event":"media",}""")]
    [InlineData("""{"event":"media" /* comment */}""")]
    [InlineData("not json at all")]
    public void Truncated_or_malformed_json_is_rejected(string json)
    {
        Assert.False(Read(json).Ok);
    }

    [Fact]
    public void Nesting_deeper_than_the_reader_allows_is_rejected_not_thrown()
    {
        var deep = """{"event":"media","x":""" + new string('[', 64) + new string(']', 64) + "}";
        Assert.False(Read(deep).Ok);
    }

    [Fact]
    public void Invalid_utf8_is_rejected_not_thrown()
    {
        byte[] json = [.. "{\"event\":\""u8, 0xC3, 0x28, .. "\"}"u8];
        Assert.False(MediaStreamApi.TryReadEventName(json, out _));
    }
}
