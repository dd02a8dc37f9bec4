using System.Text;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Events;

namespace VoiceKraliki.Telephony.Tests.Events;

public class TelnyxWebhookParserTests
{
    private const string CallControlId = "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg";
    private const string LegId = "428c31b6-7af4-4bcb-b7f5-5013ef9657c1";
    private const string SessionId = "428c31b6-abf3-3bc1-b7f4-5013ef9657c1";
    private static readonly DateTimeOffset ReceivedAt = new(2025, 6, 10, 12, 0, 30, TimeSpan.Zero);

    private static string Envelope(string eventType, string payloadFields, string id = "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0") => $$"""
        {
          "data": {
            "record_type": "event",
            "event_type": "{{eventType}}",
            "id": "{{id}}",
            "occurred_at": "2025-06-10T12:00:27.521992Z",
            "payload": {
              "call_control_id": "{{CallControlId}}",
              "connection_id": "7267xxxxxxxxxxxxxx",
              "call_leg_id": "{{LegId}}",
              "call_session_id": "{{SessionId}}",
              "client_state": "aGF2ZSBhIG5pY2UgZGF5ID1d"{{(payloadFields.Length > 0 ? "," : "")}}
              {{payloadFields}}
            }
          },
          "meta": { "attempt": 1, "delivered_to": "https://voice.example.com/webhooks/telnyx" }
        }
        """;

    private static CallEvent Parse(string json)
    {
        Assert.True(TelnyxWebhookParser.TryParse(Encoding.UTF8.GetBytes(json), ReceivedAt, out var callEvent, out var error), error);
        Assert.Null(error);
        return callEvent;
    }

    private static string Reject(string json) => Reject(Encoding.UTF8.GetBytes(json));

    private static string Reject(byte[] json)
    {
        Assert.False(TelnyxWebhookParser.TryParse(json, ReceivedAt, out var callEvent, out var error));
        Assert.Null(callEvent);
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }

    [Fact]
    public void Incoming_call_initiated_is_an_initiated_inbound_call()
    {
        var e = Parse(Envelope("call.initiated", """
            "direction": "incoming",
            "from": "+420777000111",
            "to": "+420220000000",
            "state": "parked",
            "start_time": "2025-06-10T12:00:27.000000Z",
            "custom_headers": [{ "name": "X-Campaign", "value": "spring" }]
            """));

        Assert.Equal(TelephonyProvider.Telnyx, e.Provider);
        Assert.Equal(CallControlId, e.ProviderCallId);
        Assert.Equal(SessionId, e.SessionId);
        Assert.Equal(LegId, e.LegId);
        Assert.Equal("call.initiated", e.EventType);
        Assert.Equal("0ccc7b54-4df3-4bca-a65a-3da1ecc777f0", e.ProviderEventId);
        Assert.Equal("parked", e.ProviderStatus);
        Assert.Equal(CallStatus.Initiated, e.Status);
        Assert.Equal(CallEndReason.None, e.EndReason);
        Assert.Equal("+420777000111", e.From);
        Assert.Equal("+420220000000", e.To);
        Assert.Equal(CallDirection.Inbound, e.Direction);
        Assert.Equal(new DateTimeOffset(2025, 6, 10, 12, 0, 27, TimeSpan.Zero).AddTicks(5219920), e.OccurredAt);
        Assert.Null(e.Sequence);
        Assert.Null(e.AnsweredBy);
        Assert.Null(e.HangupCause);
        Assert.Null(e.Recording);
        Assert.Equal("aGF2ZSBhIG5pY2UgZGF5ID1d", e.ClientState);
        Assert.Null(e.CallDuration);
    }

    [Fact]
    public void Raw_fields_hold_the_flattened_scalars_of_data_and_payload()
    {
        var e = Parse(Envelope("call.initiated", """
            "direction": "incoming",
            "from": "+420777000111",
            "sip_hangup_cause": null,
            "custom_headers": [{ "name": "X-Campaign", "value": "spring" }],
            "attempt": 2,
            "answered": false
            """));

        Assert.Equal("call.initiated", e.RawFields["event_type"]);
        Assert.Equal("0ccc7b54-4df3-4bca-a65a-3da1ecc777f0", e.RawFields["id"]);
        Assert.Equal("event", e.RawFields["record_type"]);
        Assert.Equal("+420777000111", e.RawFields["payload.from"]);
        Assert.Equal(CallControlId, e.RawFields["payload.call_control_id"]);
        Assert.Equal("X-Campaign", e.RawFields["payload.custom_headers[0].name"]);
        Assert.Equal("spring", e.RawFields["payload.custom_headers[0].value"]);
        Assert.Equal("2", e.RawFields["payload.attempt"]);
        Assert.Equal("false", e.RawFields["payload.answered"]);
        Assert.False(e.RawFields.ContainsKey("payload.sip_hangup_cause"));
        Assert.DoesNotContain(e.RawFields.Keys, k => k.StartsWith("meta", StringComparison.Ordinal));
    }

    [Fact]
    public void Outgoing_call_answered_is_answered_outbound()
    {
        var e = Parse(Envelope("call.answered", """
            "direction": "outgoing",
            "from": "+420220000000",
            "to": "+420777000111",
            "state": "answered",
            "start_time": "2025-06-10T12:00:20.000000Z"
            """));

        Assert.Equal(CallStatus.Answered, e.Status);
        Assert.Equal(CallDirection.Outbound, e.Direction);
        Assert.Equal("answered", e.ProviderStatus);
    }

    [Theory]
    [InlineData("normal_clearing", CallStatus.Completed, CallEndReason.Normal)]
    [InlineData("originator_cancel", CallStatus.Completed, CallEndReason.Canceled)]
    [InlineData("call_rejected", CallStatus.Completed, CallEndReason.Rejected)]
    [InlineData("user_busy", CallStatus.Completed, CallEndReason.Busy)]
    [InlineData("no_answer", CallStatus.Completed, CallEndReason.NoAnswer)]
    [InlineData("timeout", CallStatus.Completed, CallEndReason.NoAnswer)]
    [InlineData("time_limit", CallStatus.Completed, CallEndReason.TimeLimit)]
    [InlineData("not_found", CallStatus.Failed, CallEndReason.Failed)]
    [InlineData("unspecified", CallStatus.Completed, CallEndReason.Unknown)]
    [InlineData("brand_new_cause", CallStatus.Completed, CallEndReason.Unknown)]
    public void Hangup_maps_its_cause_and_measures_the_call(string cause, CallStatus status, CallEndReason endReason)
    {
        var e = Parse(Envelope("call.hangup", $$"""
            "direction": "outgoing",
            "from": "+420220000000",
            "to": "+420777000111",
            "state": "hangup",
            "start_time": "2025-06-10T12:00:00.000000Z",
            "end_time": "2025-06-10T12:01:13.500000Z",
            "hangup_cause": "{{cause}}",
            "hangup_source": "callee",
            "sip_hangup_cause": "603",
            "call_quality_stats": { "inbound": { "mos": "4.50", "packet_count": "591" } }
            """));

        Assert.Equal("call.hangup", e.EventType);
        Assert.Equal(status, e.Status);
        Assert.Equal(endReason, e.EndReason);
        Assert.Equal(cause, e.HangupCause);
        Assert.Equal("hangup", e.ProviderStatus);
        Assert.Equal(TimeSpan.FromSeconds(73.5), e.CallDuration);
        Assert.Equal("callee", e.RawFields["payload.hangup_source"]);
        Assert.Equal("4.50", e.RawFields["payload.call_quality_stats.inbound.mos"]);
    }

    [Fact]
    public void Hangup_without_a_cause_is_completed_for_an_unknown_reason()
    {
        var e = Parse(Envelope("call.hangup", "\"state\": \"hangup\""));

        Assert.Equal(CallStatus.Completed, e.Status);
        Assert.Equal(CallEndReason.Unknown, e.EndReason);
        Assert.Null(e.CallDuration);
    }

    [Theory]
    [InlineData("call.machine.detection.ended", "human", "human")]
    [InlineData("call.machine.detection.ended", "machine", "machine")]
    [InlineData("call.machine.detection.ended", "not_sure", "not_sure")]
    [InlineData("call.machine.premium.detection.ended", "human_residence", "human")]
    [InlineData("call.machine.premium.detection.ended", "human_business", "human")]
    [InlineData("call.machine.premium.detection.ended", "fax_detected", "machine")]
    [InlineData("call.machine.premium.detection.ended", "silence", "not_sure")]
    public void Machine_detection_result_is_normalized_into_AnsweredBy(string eventType, string result, string answeredBy)
    {
        var e = Parse(Envelope(eventType, $$"""
            "from": "+420220000000",
            "to": "+420777000111",
            "result": "{{result}}"
            """));

        Assert.Equal(answeredBy, e.AnsweredBy);
        Assert.Null(e.Status);
        Assert.Equal(CallEndReason.None, e.EndReason);
        Assert.Equal(result, e.RawFields["payload.result"]);
    }

    [Fact]
    public void Greeting_ended_is_not_a_detection_result()
    {
        var e = Parse(Envelope("call.machine.greeting.ended", "\"result\": \"beep_detected\""));

        Assert.Null(e.AnsweredBy);
        Assert.Null(e.Status);
    }

    [Fact]
    public void A_result_that_is_not_a_string_is_ignored_on_events_that_do_not_use_it()
    {
        var e = Parse(Envelope("call.ai_gather.ended", "\"result\": { \"answer\": 42 }"));

        Assert.Equal("42", e.RawFields["payload.result.answer"]);
    }

    [Fact]
    public void Dtmf_received_does_not_change_the_call_state()
    {
        var e = Parse(Envelope("call.dtmf.received", """
            "from": "+420777000111",
            "to": "+420220000000",
            "digit": "5"
            """));

        Assert.Equal("call.dtmf.received", e.EventType);
        Assert.Null(e.Status);
        Assert.Equal(CallEndReason.None, e.EndReason);
        Assert.Equal("5", e.RawFields["payload.digit"]);
    }

    [Fact]
    public void Recording_saved_carries_the_recording()
    {
        var e = Parse(Envelope("call.recording.saved", """
            "channels": "single",
            "recording_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
            "recording_started_at": "2025-06-10T11:59:00.000000Z",
            "recording_ended_at": "2025-06-10T12:00:01.000000Z",
            "recording_urls": { "mp3": "https://s3.example.com/rec.mp3", "wav": null },
            "public_recording_urls": { "mp3": null, "wav": null }
            """));

        Assert.Null(e.Status);
        Assert.NotNull(e.Recording);
        Assert.Equal("3fa85f64-5717-4562-b3fc-2c963f66afa6", e.Recording.RecordingId);
        Assert.Equal("https://s3.example.com/rec.mp3", e.Recording.Url);
        Assert.Equal(TimeSpan.FromSeconds(61), e.Recording.Duration);
        Assert.Equal("saved", e.Recording.Status);
    }

    [Fact]
    public void Recording_saved_falls_back_to_the_public_url()
    {
        var e = Parse(Envelope("call.recording.saved", """
            "public_recording_urls": { "wav": "https://public.example.com/rec.wav" }
            """));

        Assert.Equal("https://public.example.com/rec.wav", e.Recording!.Url);
        Assert.Null(e.Recording.RecordingId);
        Assert.Null(e.Recording.Duration);
    }

    [Fact]
    public void Bridged_hold_and_queue_events_move_the_call()
    {
        Assert.Equal(CallStatus.Answered, Parse(Envelope("call.bridged", "")).Status);
        Assert.Equal(CallStatus.OnHold, Parse(Envelope("call.enqueued", "\"queue\": \"support\"")).Status);
        Assert.Equal(CallStatus.Answered, Parse(Envelope("call.dequeued", "")).Status);
        Assert.Equal(CallStatus.Transferring, Parse(Envelope("call.refer.started", "")).Status);
    }

    [Fact]
    public void Unknown_event_type_is_accepted_without_a_state()
    {
        var e = Parse(Envelope("call.conversation.ended", ""));

        Assert.Equal("call.conversation.ended", e.EventType);
        Assert.Null(e.Status);
    }

    [Fact]
    public void Conference_event_without_a_call_falls_back_to_the_conference_id()
    {
        const string json = """
            {"data":{"record_type":"event","event_type":"conference.created","id":"e1","occurred_at":"2025-06-10T12:00:00Z",
             "payload":{"conference_id":"41b9acd4-f4da-4ff5-a85c-e07e90b53f46","name":"sales"}}}
            """;

        Assert.Equal("41b9acd4-f4da-4ff5-a85c-e07e90b53f46", Parse(json).ProviderCallId);
    }

    [Fact]
    public void Missing_occurred_at_uses_the_receive_time()
    {
        const string json = """{"data":{"event_type":"call.answered","id":"e1","payload":{"call_control_id":"v3:abc"}}}""";

        Assert.Equal(ReceivedAt, Parse(json).OccurredAt);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("{\"data\":")]
    [InlineData("{\"data\":{}} trailing")]
    [InlineData("{\"data\":{}}{\"data\":{}}")]
    public void Non_json_is_rejected(string body)
    {
        Reject(body);
    }

    [Theory]
    [InlineData("[]", "object")]
    [InlineData("[{\"data\":{}}]", "object")]
    [InlineData("\"call.answered\"", "object")]
    [InlineData("42", "object")]
    [InlineData("null", "object")]
    [InlineData("{}", "data")]
    [InlineData("{\"data\":[]}", "data")]
    [InlineData("{\"data\":\"x\"}", "data")]
    public void Json_of_the_wrong_shape_is_rejected(string body, string mentioned)
    {
        Assert.Contains(mentioned, Reject(body));
    }

    [Theory]
    [InlineData("""{"data":{"id":"e1","payload":{"call_control_id":"c"}}}""", "data.event_type is missing")]
    [InlineData("""{"data":{"event_type":"call.answered","payload":{"call_control_id":"c"}}}""", "data.id is missing")]
    [InlineData("""{"data":{"event_type":"call.answered","id":"","payload":{"call_control_id":"c"}}}""", "data.id is missing")]
    [InlineData("""{"data":{"event_type":"call.answered","id":"e1"}}""", "data.payload is missing or is not an object")]
    [InlineData("""{"data":{"event_type":"call.answered","id":"e1","payload":[]}}""", "data.payload is missing or is not an object")]
    [InlineData("""{"data":{"event_type":"call.answered","id":"e1","payload":{}}}""", "data.payload.call_control_id is missing")]
    [InlineData("""{"data":{"event_type":"call.answered","id":"e1","payload":{"conference_id":"x"}}}""", "data.payload.call_control_id is missing")]
    [InlineData("""{"data":{"event_type":"conference.created","id":"e1","payload":{}}}""", "data.payload.call_control_id is missing")]
    public void Missing_required_fields_are_rejected_naming_them(string body, string error)
    {
        Assert.Equal(error, Reject(body));
    }

    [Theory]
    [InlineData("""{"data":{"event_type":42,"id":"e1","payload":{"call_control_id":"c"}}}""", "data.event_type must be a string")]
    [InlineData("""{"data":{"event_type":"call.answered","id":{"x":1},"payload":{"call_control_id":"c"}}}""", "data.id must be a string")]
    [InlineData("""{"data":{"event_type":"call.answered","id":"e1","payload":{"call_control_id":7}}}""", "data.payload.call_control_id must be a string")]
    [InlineData("""{"data":{"event_type":"call.answered","id":"e1","payload":{"call_control_id":"c","from":["+1"]}}}""", "data.payload.from must be a string")]
    [InlineData("""{"data":{"event_type":"call.hangup","id":"e1","payload":{"call_control_id":"c","hangup_cause":true}}}""", "data.payload.hangup_cause must be a string")]
    [InlineData("""{"data":{"event_type":"call.answered","id":"e1","occurred_at":1718020800,"payload":{"call_control_id":"c"}}}""", "data.occurred_at must be a string")]
    [InlineData("""{"data":{"event_type":"call.answered","id":"e1","occurred_at":"last tuesday","payload":{"call_control_id":"c"}}}""", "data.occurred_at")]
    [InlineData("""{"data":{"event_type":"call.hangup","id":"e1","payload":{"call_control_id":"c","end_time":"soon"}}}""", "data.payload.end_time")]
    [InlineData("""{"data":{"event_type":"call.recording.saved","id":"e1","payload":{"call_control_id":"c","recording_urls":"https://x"}}}""", "data.payload.recording_urls must be an object")]
    [InlineData("""{"data":{"event_type":"call.machine.detection.ended","id":"e1","payload":{"call_control_id":"c","result":1}}}""", "data.payload.result must be a string")]
    [InlineData("""{"data":{"record_type":"call","event_type":"call.answered","id":"e1","payload":{"call_control_id":"c"}}}""", "data.record_type")]
    [InlineData("""{"data":{"event_type":"call answered!","id":"e1","payload":{"call_control_id":"c"}}}""", "data.event_type")]
    [InlineData("""{"data":{"event_type":"call.answered","id":"e 1","payload":{"call_control_id":"c"}}}""", "data.id")]
    public void Wrong_types_and_values_are_rejected_naming_the_field(string body, string error)
    {
        Assert.StartsWith(error, Reject(body));
    }

    [Fact]
    public void Deeply_nested_json_is_rejected()
    {
        var body = "{\"data\":{\"event_type\":\"call.answered\",\"id\":\"e1\",\"payload\":{\"call_control_id\":\"c\",\"x\":"
            + new string('[', 10_000) + new string(']', 10_000) + "}}}";

        Assert.Contains("depth", Reject(body));
    }

    [Fact]
    public void Huge_strings_in_identifiers_are_rejected_without_being_echoed()
    {
        var huge = new string('a', 1_000_000);
        var error = Reject("{\"data\":{\"event_type\":\"call.answered\",\"id\":\"" + huge + "\",\"payload\":{\"call_control_id\":\"c\"}}}");

        Assert.StartsWith("data.id", error);
        Assert.True(error.Length < 200, error);
    }

    [Fact]
    public void Huge_payload_keeps_a_bounded_number_of_raw_fields()
    {
        var many = string.Join(",", Enumerable.Range(0, 5000).Select(i => $"\"f{i}\":\"{i}\""));
        var e = Parse(Envelope("call.answered", many));

        Assert.Equal(TelnyxWebhookParser.MaxRawFields, e.RawFields.Count);
        Assert.Equal(CallControlId, e.ProviderCallId);
    }

    [Fact]
    public void Invalid_utf8_in_a_string_is_rejected()
    {
        var prefix = Encoding.UTF8.GetBytes("{\"data\":{\"event_type\":\"call.answered\",\"id\":\"e1\",\"payload\":{\"call_control_id\":\"c\",\"from\":\"");
        var suffix = Encoding.UTF8.GetBytes("\"}}}");
        byte[] body = [.. prefix, 0xC3, 0x28, .. suffix];

        Reject(body);
    }
}
