using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Events;

namespace VoiceKraliki.Telephony.Tests.Events;

public class TwilioWebhookParserTests
{
    private const string CallSid = "CA5f3a9c0d2b7e41f6a8c3d9e0b1f2a4c6";
    private static readonly DateTimeOffset ReceivedAt = new(2025, 6, 10, 12, 0, 30, TimeSpan.Zero);

    private static List<KeyValuePair<string, string>> InboundVoiceWebhook() =>
    [
        new("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        new("ApiVersion", "2010-04-01"),
        new("CallSid", CallSid),
        new("CallStatus", "ringing"),
        new("Called", "+420220000000"),
        new("CalledCountry", "CZ"),
        new("Caller", "+420777000111"),
        new("Direction", "inbound"),
        new("From", "+420777000111"),
        new("FromCountry", "CZ"),
        new("To", "+420220000000"),
        new("ToCountry", "CZ"),
        new("CallToken", "%7B%22parentCallInfoToken%22%3A%22eyJ%22%7D"),
        new("StirVerstat", "TN-Validation-Passed-A"),
    ];

    private static List<KeyValuePair<string, string>> CompletedStatusCallback() =>
    [
        new("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        new("ApiVersion", "2010-04-01"),
        new("CallSid", CallSid),
        new("CallStatus", "completed"),
        new("CallDuration", "73"),
        new("CallbackSource", "call-progress-events"),
        new("Direction", "outbound-api"),
        new("Duration", "2"),
        new("From", "+420220000000"),
        new("To", "+420777000111"),
        new("SequenceNumber", "3"),
        new("SipResponseCode", "200"),
        new("Timestamp", "Tue, 10 Jun 2025 12:00:27 +0000"),
    ];

    private static List<KeyValuePair<string, string>> RecordingCallback() =>
    [
        new("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        new("CallSid", CallSid),
        new("RecordingSid", "RE0123456789abcdef0123456789abcdef"),
        new("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123456789abcdef0123456789abcdef"),
        new("RecordingStatus", "completed"),
        new("RecordingDuration", "61"),
        new("RecordingChannels", "2"),
        new("RecordingSource", "StartCallRecordingAPI"),
        new("RecordingStartTime", "Tue, 10 Jun 2025 11:59:14 +0000"),
        new("ErrorCode", "0"),
    ];

    private static List<KeyValuePair<string, string>> AmdCallback(string answeredBy) =>
    [
        new("AccountSid", "AC0123456789abcdef0123456789abcdef"),
        new("CallSid", CallSid),
        new("AnsweredBy", answeredBy),
        new("MachineDetectionDuration", "2830"),
    ];

    private static CallEvent Parse(List<KeyValuePair<string, string>> form, string kind)
    {
        Assert.True(TwilioWebhookParser.TryParse(form, kind, ReceivedAt, out var callEvent, out var error), error);
        Assert.Null(error);
        return callEvent;
    }

    private static string Reject(List<KeyValuePair<string, string>> form, string kind)
    {
        Assert.False(TwilioWebhookParser.TryParse(form, kind, ReceivedAt, out var callEvent, out var error));
        Assert.Null(callEvent);
        Assert.False(string.IsNullOrWhiteSpace(error));
        return error;
    }

    private static List<KeyValuePair<string, string>> With(List<KeyValuePair<string, string>> form, string key, string value)
    {
        form.RemoveAll(p => p.Key == key);
        form.Add(new(key, value));
        return form;
    }

    private static List<KeyValuePair<string, string>> Without(List<KeyValuePair<string, string>> form, string key)
    {
        form.RemoveAll(p => p.Key == key);
        return form;
    }

    [Fact]
    public void Inbound_voice_webhook_is_a_ringing_inbound_call()
    {
        var e = Parse(InboundVoiceWebhook(), "voice");

        Assert.Equal(TelephonyProvider.Twilio, e.Provider);
        Assert.Equal(CallSid, e.ProviderCallId);
        Assert.Null(e.SessionId);
        Assert.Null(e.LegId);
        Assert.Equal("call.ringing", e.EventType);
        Assert.Null(e.ProviderEventId);
        Assert.Equal("ringing", e.ProviderStatus);
        Assert.Equal(CallStatus.Ringing, e.Status);
        Assert.Equal(CallEndReason.None, e.EndReason);
        Assert.Equal("+420777000111", e.From);
        Assert.Equal("+420220000000", e.To);
        Assert.Equal(CallDirection.Inbound, e.Direction);
        Assert.Equal(ReceivedAt, e.OccurredAt);
        Assert.Null(e.Sequence);
        Assert.Null(e.AnsweredBy);
        Assert.Null(e.HangupCause);
        Assert.Null(e.Recording);
        Assert.Null(e.ClientState);
        Assert.Null(e.CallDuration);
        Assert.Equal(14, e.RawFields.Count);
        Assert.Equal("TN-Validation-Passed-A", e.RawFields["StirVerstat"]);
    }

    [Fact]
    public void Completed_status_callback_carries_sequence_timestamp_duration_and_sip_code()
    {
        var e = Parse(CompletedStatusCallback(), "status");

        Assert.Equal("call.completed", e.EventType);
        Assert.Equal("completed", e.ProviderStatus);
        Assert.Equal(CallStatus.Completed, e.Status);
        Assert.Equal(CallEndReason.Normal, e.EndReason);
        Assert.Equal(CallDirection.Outbound, e.Direction);
        Assert.Equal(new DateTimeOffset(2025, 6, 10, 12, 0, 27, TimeSpan.Zero), e.OccurredAt);
        Assert.Equal(3, e.Sequence);
        Assert.Equal(TimeSpan.FromSeconds(73), e.CallDuration);
        Assert.Equal("200", e.HangupCause);
        Assert.Equal("call-progress-events", e.RawFields["CallbackSource"]);
    }

    [Theory]
    [InlineData("queued", "call.queued", CallStatus.Initiated, CallEndReason.None)]
    [InlineData("initiated", "call.initiated", CallStatus.Initiated, CallEndReason.None)]
    [InlineData("ringing", "call.ringing", CallStatus.Ringing, CallEndReason.None)]
    [InlineData("in-progress", "call.answered", CallStatus.Answered, CallEndReason.None)]
    [InlineData("completed", "call.completed", CallStatus.Completed, CallEndReason.Normal)]
    [InlineData("busy", "call.busy", CallStatus.Completed, CallEndReason.Busy)]
    [InlineData("no-answer", "call.no-answer", CallStatus.Completed, CallEndReason.NoAnswer)]
    [InlineData("canceled", "call.canceled", CallStatus.Completed, CallEndReason.Canceled)]
    [InlineData("failed", "call.failed", CallStatus.Failed, CallEndReason.Failed)]
    public void Each_call_status_gets_its_event_type_and_state(string callStatus, string eventType, CallStatus status, CallEndReason endReason)
    {
        var e = Parse(With(CompletedStatusCallback(), "CallStatus", callStatus), "status");

        Assert.Equal(eventType, e.EventType);
        Assert.Equal(status, e.Status);
        Assert.Equal(endReason, e.EndReason);
        Assert.Equal(callStatus, e.ProviderStatus);
    }

    [Fact]
    public void Dialed_child_leg_keeps_its_parent_as_session()
    {
        var form = With(With(InboundVoiceWebhook(), "Direction", "outbound-dial"), "ParentCallSid", "CA00000000000000000000000000000001");

        var e = Parse(form, "status");

        Assert.Equal(CallDirection.Outbound, e.Direction);
        Assert.Equal("CA00000000000000000000000000000001", e.SessionId);
    }

    [Theory]
    [InlineData("inbound", CallDirection.Inbound)]
    [InlineData("outbound-api", CallDirection.Outbound)]
    [InlineData("outbound-dial", CallDirection.Outbound)]
    [InlineData("trunking-originating", CallDirection.Unknown)]
    [InlineData("", CallDirection.Unknown)]
    public void Direction_is_normalized(string direction, CallDirection expected)
    {
        Assert.Equal(expected, Parse(With(InboundVoiceWebhook(), "Direction", direction), "voice").Direction);
    }

    [Fact]
    public void Recording_callback_is_a_recording_event_that_leaves_the_call_state_alone()
    {
        var e = Parse(RecordingCallback(), "recording");

        Assert.Equal("recording.completed", e.EventType);
        Assert.Null(e.Status);
        Assert.Null(e.ProviderStatus);
        Assert.Equal(CallEndReason.None, e.EndReason);
        Assert.Equal(ReceivedAt, e.OccurredAt);
        Assert.Equal(CallDirection.Unknown, e.Direction);
        Assert.NotNull(e.Recording);
        Assert.Equal("RE0123456789abcdef0123456789abcdef", e.Recording.RecordingId);
        Assert.StartsWith("https://api.twilio.com/2010-04-01/Accounts/", e.Recording.Url);
        Assert.Equal(TimeSpan.FromSeconds(61), e.Recording.Duration);
        Assert.Equal("completed", e.Recording.Status);
        Assert.Equal("0", e.HangupCause);
    }

    [Fact]
    public void Recording_status_alone_makes_a_callback_a_recording_event()
    {
        var e = Parse(With(RecordingCallback(), "RecordingStatus", "absent"), "callbacks");

        Assert.Equal("recording.absent", e.EventType);
    }

    [Fact]
    public void A_record_action_without_recording_status_is_a_received_recording_with_the_call_state()
    {
        List<KeyValuePair<string, string>> form =
        [
            new("CallSid", CallSid),
            new("CallStatus", "in-progress"),
            new("RecordingUrl", "https://api.twilio.com/recordings/RE1"),
            new("RecordingDuration", "-1"),
            new("Digits", "hangup"),
        ];

        var e = Parse(form, "recording");

        Assert.Equal("recording.received", e.EventType);
        Assert.Equal(CallStatus.Answered, e.Status);
        Assert.NotNull(e.Recording);
        Assert.Null(e.Recording.Duration);
        Assert.Null(e.Recording.RecordingId);
    }

    [Fact]
    public void Recording_callback_without_any_recording_field_is_rejected()
    {
        List<KeyValuePair<string, string>> form = [new("CallSid", CallSid), new("AccountSid", "AC1")];

        Assert.Contains("RecordingSid", Reject(form, "recording"));
    }

    [Theory]
    [InlineData("human")]
    [InlineData("machine_end_beep")]
    [InlineData("fax")]
    [InlineData("unknown")]
    public void Async_amd_callback_reports_who_answered_without_changing_state(string answeredBy)
    {
        var e = Parse(AmdCallback(answeredBy), "amd");

        Assert.Equal("amd.completed", e.EventType);
        Assert.Equal(answeredBy, e.AnsweredBy);
        Assert.Null(e.Status);
        Assert.Equal(CallEndReason.None, e.EndReason);
        Assert.Equal("2830", e.RawFields["MachineDetectionDuration"]);
    }

    [Fact]
    public void AnsweredBy_without_CallStatus_is_an_amd_result_whatever_the_kind()
    {
        Assert.Equal("amd.completed", Parse(AmdCallback("machine_start"), "events").EventType);
    }

    [Fact]
    public void Amd_kind_without_AnsweredBy_is_rejected()
    {
        Assert.Contains("AnsweredBy", Reject(Without(AmdCallback("human"), "AnsweredBy"), "amd"));
    }

    [Fact]
    public void Sync_amd_on_the_voice_webhook_is_an_answered_call_with_AnsweredBy()
    {
        var form = With(With(InboundVoiceWebhook(), "CallStatus", "in-progress"), "AnsweredBy", "machine_start");

        var e = Parse(form, "voice");

        Assert.Equal("call.answered", e.EventType);
        Assert.Equal(CallStatus.Answered, e.Status);
        Assert.Equal("machine_start", e.AnsweredBy);
    }

    [Fact]
    public void A_completed_call_that_a_machine_answered_ends_with_MachineDetected()
    {
        var e = Parse(With(CompletedStatusCallback(), "AnsweredBy", "machine_end_silence"), "status");

        Assert.Equal(CallStatus.Completed, e.Status);
        Assert.Equal(CallEndReason.MachineDetected, e.EndReason);
    }

    [Fact]
    public void Fallback_webhook_reports_the_error_code_as_hangup_cause()
    {
        var form = With(With(InboundVoiceWebhook(), "ErrorCode", "11200"), "ErrorUrl", "https://voice.example.com/webhooks/twilio/voice");

        var e = Parse(form, "fallback");

        Assert.Equal("call.ringing", e.EventType);
        Assert.Equal("11200", e.HangupCause);
    }

    [Fact]
    public void Sip_response_code_wins_over_error_code()
    {
        var form = With(With(CompletedStatusCallback(), "ErrorCode", "31005"), "SipResponseCode", "487");

        Assert.Equal("487", Parse(form, "status").HangupCause);
    }

    [Fact]
    public void Repeated_field_keeps_its_last_value()
    {
        var form = InboundVoiceWebhook();
        form.Add(new("CallStatus", "in-progress"));
        form.Add(new("Custom", "first"));
        form.Add(new("Custom", "second"));

        var e = Parse(form, "voice");

        Assert.Equal(CallStatus.Answered, e.Status);
        Assert.Equal("in-progress", e.RawFields["CallStatus"]);
        Assert.Equal("second", e.RawFields["Custom"]);
    }

    [Fact]
    public void Raw_fields_cannot_be_changed_through_the_interface()
    {
        var e = Parse(InboundVoiceWebhook(), "voice");

        Assert.False(e.RawFields is IDictionary<string, string> { IsReadOnly: false });
    }

    [Theory]
    [InlineData("Mon, 16 Aug 2010 03:45:01 +0000", "2010-08-16T03:45:01+00:00")]
    [InlineData("Tue, 10 Jun 2025 12:00:00 GMT", "2025-06-10T12:00:00+00:00")]
    [InlineData("Tue, 10 Jun 2025 14:00:00 +0200", "2025-06-10T12:00:00+00:00")]
    [InlineData("2021-04-28 21:51:18.731479Z", "2021-04-28T21:51:18.731479+00:00")]
    public void Timestamp_in_rfc_1123_or_iso_form_is_the_occurrence_time(string timestamp, string expected)
    {
        var e = Parse(With(CompletedStatusCallback(), "Timestamp", timestamp), "status");

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), e.OccurredAt);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("Tue, 32 Jun 2025 12:00:00 +0000")]
    [InlineData("16 Aug 2010")]
    [InlineData("1718020800")]
    public void Invalid_timestamp_is_rejected_naming_the_field(string timestamp)
    {
        Assert.Contains("Timestamp", Reject(With(CompletedStatusCallback(), "Timestamp", timestamp), "status"));
    }

    [Fact]
    public void Missing_CallSid_is_rejected()
    {
        Assert.Equal("CallSid is missing", Reject(Without(InboundVoiceWebhook(), "CallSid"), "voice"));
    }

    [Theory]
    [InlineData("CA 123")]
    [InlineData("CA\u0000123")]
    [InlineData("CAé")]
    public void CallSid_that_is_not_an_identifier_is_rejected(string callSid)
    {
        Assert.Contains("CallSid", Reject(With(InboundVoiceWebhook(), "CallSid", callSid), "voice"));
    }

    [Fact]
    public void Huge_CallSid_is_rejected()
    {
        Assert.Contains("CallSid", Reject(With(InboundVoiceWebhook(), "CallSid", "CA" + new string('a', 1000)), "voice"));
    }

    [Fact]
    public void Huge_field_value_is_rejected_without_echoing_it()
    {
        var error = Reject(With(InboundVoiceWebhook(), "From", new string('7', TwilioWebhookParser.MaxFieldValueLength + 1)), "voice");

        Assert.Contains("'From'", error);
        Assert.DoesNotContain("7777", error);
    }

    [Fact]
    public void Too_many_fields_are_rejected()
    {
        var form = InboundVoiceWebhook();
        for (var i = 0; i < TwilioWebhookParser.MaxFields; i++)
        {
            form.Add(new($"X{i}", "y"));
        }

        Assert.Contains("fields", Reject(form, "voice"));
    }

    [Theory]
    [InlineData("voice")]
    [InlineData("status")]
    [InlineData("fallback")]
    [InlineData("gather")]
    public void Missing_CallStatus_is_rejected_for_call_webhooks(string kind)
    {
        Assert.Equal("CallStatus is missing", Reject(Without(InboundVoiceWebhook(), "CallStatus"), kind));
    }

    [Theory]
    [InlineData("answered")]
    [InlineData("COMPLETED ")]
    [InlineData("in_progress")]
    public void Unknown_CallStatus_is_rejected_not_guessed(string callStatus)
    {
        var error = Reject(With(CompletedStatusCallback(), "CallStatus", callStatus), "status");

        Assert.StartsWith("CallStatus", error);
        Assert.Contains("is not one of", error);
    }

    [Fact]
    public void Unknown_CallStatus_is_rejected_even_on_a_recording_callback()
    {
        Assert.StartsWith("CallStatus", Reject(With(RecordingCallback(), "CallStatus", "paused"), "recording"));
    }

    [Theory]
    [InlineData("SequenceNumber", "three")]
    [InlineData("SequenceNumber", "-1")]
    [InlineData("SequenceNumber", "99999999999999999999")]
    [InlineData("CallDuration", "1.5")]
    [InlineData("CallDuration", "3000000000")]
    public void Numeric_field_that_does_not_parse_is_rejected_naming_it(string field, string value)
    {
        Assert.StartsWith(field, Reject(With(CompletedStatusCallback(), field, value), "status"));
    }

    [Theory]
    [InlineData("sixty")]
    [InlineData("3000000000")]
    public void Recording_duration_that_does_not_parse_is_rejected(string value)
    {
        Assert.StartsWith("RecordingDuration", Reject(With(RecordingCallback(), "RecordingDuration", value), "recording"));
    }

    [Fact]
    public void Empty_optional_fields_count_as_absent()
    {
        var form = With(With(With(CompletedStatusCallback(), "Timestamp", ""), "SequenceNumber", ""), "ParentCallSid", "");

        var e = Parse(form, "status");

        Assert.Equal(ReceivedAt, e.OccurredAt);
        Assert.Null(e.Sequence);
        Assert.Null(e.SessionId);
    }

    [Fact]
    public void Null_form_kind_keys_and_values_are_handled_without_throwing()
    {
        Assert.False(TwilioWebhookParser.TryParse(null!, "voice", ReceivedAt, out _, out var error));
        Assert.NotNull(error);
        Assert.False(TwilioWebhookParser.TryParse(InboundVoiceWebhook(), null!, ReceivedAt, out _, out error));
        Assert.Contains("kind", error);

        var form = InboundVoiceWebhook();
        form.Add(new(null!, "x"));
        form.Add(new("StirVerstat", null!));
        var e = Parse(form, "voice");
        Assert.Equal(string.Empty, e.RawFields["StirVerstat"]);
    }

    [Fact]
    public void Error_messages_quote_hostile_values_as_short_printable_text()
    {
        var error = Reject(With(CompletedStatusCallback(), "CallStatus", "<script>\r\n" + new string('x', 500)), "status");

        Assert.DoesNotContain("\n", error);
        Assert.True(error.Length < 250, error);
    }
}
