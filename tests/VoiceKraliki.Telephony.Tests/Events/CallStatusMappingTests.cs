using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Events;

namespace VoiceKraliki.Telephony.Tests.Events;

public class CallStatusMappingTests
{
    // The expected tables are written out by hand, so changing a row in the code fails a test here.
    public static TheoryData<string, string?, CallStatus?, CallEndReason> ExpectedTwilio => new()
    {
        { "queued", null, CallStatus.Initiated, CallEndReason.None },
        { "initiated", null, CallStatus.Initiated, CallEndReason.None },
        { "ringing", null, CallStatus.Ringing, CallEndReason.None },
        { "in-progress", null, CallStatus.Answered, CallEndReason.None },
        { "completed", null, CallStatus.Completed, CallEndReason.Normal },
        { "busy", null, CallStatus.Completed, CallEndReason.Busy },
        { "no-answer", null, CallStatus.Completed, CallEndReason.NoAnswer },
        { "canceled", null, CallStatus.Completed, CallEndReason.Canceled },
        { "failed", null, CallStatus.Failed, CallEndReason.Failed },
        { "completed", "machine_start", CallStatus.Completed, CallEndReason.MachineDetected },
        { "completed", "machine_end_beep", CallStatus.Completed, CallEndReason.MachineDetected },
        { "completed", "machine_end_silence", CallStatus.Completed, CallEndReason.MachineDetected },
        { "completed", "machine_end_other", CallStatus.Completed, CallEndReason.MachineDetected },
        { "completed", "fax", CallStatus.Completed, CallEndReason.MachineDetected },
    };

    public static TheoryData<string, string?, CallStatus?, CallEndReason> ExpectedTelnyx => new()
    {
        { "call.initiated", null, CallStatus.Initiated, CallEndReason.None },
        { "call.answered", null, CallStatus.Answered, CallEndReason.None },
        { "call.bridged", null, CallStatus.Answered, CallEndReason.None },
        { "call.hold", null, CallStatus.OnHold, CallEndReason.None },
        { "call.unhold", null, CallStatus.Answered, CallEndReason.None },
        { "call.enqueued", null, CallStatus.OnHold, CallEndReason.None },
        { "call.dequeued", null, CallStatus.Answered, CallEndReason.None },
        { "call.refer.started", null, CallStatus.Transferring, CallEndReason.None },
        { "call.refer.completed", null, null, CallEndReason.None },
        { "call.refer.failed", null, CallStatus.Answered, CallEndReason.None },
        { "call.hangup", null, CallStatus.Completed, CallEndReason.Unknown },
        { "call.hangup", "normal_clearing", CallStatus.Completed, CallEndReason.Normal },
        { "call.hangup", "originator_cancel", CallStatus.Completed, CallEndReason.Canceled },
        { "call.hangup", "call_rejected", CallStatus.Completed, CallEndReason.Rejected },
        { "call.hangup", "user_busy", CallStatus.Completed, CallEndReason.Busy },
        { "call.hangup", "no_answer", CallStatus.Completed, CallEndReason.NoAnswer },
        { "call.hangup", "timeout", CallStatus.Completed, CallEndReason.NoAnswer },
        { "call.hangup", "time_limit", CallStatus.Completed, CallEndReason.TimeLimit },
        { "call.hangup", "not_found", CallStatus.Failed, CallEndReason.Failed },
        { "call.hangup", "unspecified", CallStatus.Completed, CallEndReason.Unknown },
        { "call.dtmf.received", null, null, CallEndReason.None },
        { "call.gather.ended", null, null, CallEndReason.None },
        { "call.playback.started", null, null, CallEndReason.None },
        { "call.playback.ended", null, null, CallEndReason.None },
        { "call.speak.started", null, null, CallEndReason.None },
        { "call.speak.ended", null, null, CallEndReason.None },
        { "call.recording.saved", null, null, CallEndReason.None },
        { "call.machine.detection.ended", null, null, CallEndReason.None },
        { "call.machine.greeting.ended", null, null, CallEndReason.None },
    };

    public static TheoryData<string> TwilioRowValues => new(CallStatusMapping.TwilioRows.Select(r => r.ProviderValue));

    public static TheoryData<string> TelnyxRowValues => new(CallStatusMapping.TelnyxRows.Select(r => r.ProviderValue));

    [Theory]
    [MemberData(nameof(ExpectedTwilio))]
    public void Twilio_status_maps_to_the_documented_state_and_end_reason(string callStatus, string? answeredBy, CallStatus? status, CallEndReason endReason)
    {
        Assert.Equal((status, endReason), CallStatusMapping.FromTwilio(callStatus, answeredBy));
    }

    [Theory]
    [MemberData(nameof(ExpectedTelnyx))]
    public void Telnyx_event_maps_to_the_documented_state_and_end_reason(string eventType, string? hangupCause, CallStatus? status, CallEndReason endReason)
    {
        Assert.Equal((status, endReason), CallStatusMapping.FromTelnyx(eventType, hangupCause));
    }

    [Theory]
    [MemberData(nameof(TwilioRowValues))]
    public void Every_twilio_row_is_what_FromTwilio_returns_and_is_in_the_expected_table(string providerValue)
    {
        var row = CallStatusMapping.TwilioRows.Single(r => r.ProviderValue == providerValue);
        var (value, qualifier) = Split(providerValue);

        Assert.Equal((row.Status, row.EndReason), CallStatusMapping.FromTwilio(value, qualifier));
        Assert.Contains(ExpectedTwilio, e => (string)e[0] == value && (string?)e[1] == qualifier
            && (CallStatus?)e[2] == row.Status && (CallEndReason)e[3] == row.EndReason);
    }

    [Theory]
    [MemberData(nameof(TelnyxRowValues))]
    public void Every_telnyx_row_is_what_FromTelnyx_returns_and_is_in_the_expected_table(string providerValue)
    {
        var row = CallStatusMapping.TelnyxRows.Single(r => r.ProviderValue == providerValue);
        var (value, qualifier) = Split(providerValue);

        Assert.Equal((row.Status, row.EndReason), CallStatusMapping.FromTelnyx(value, qualifier));
        Assert.Contains(ExpectedTelnyx, e => (string)e[0] == value && (string?)e[1] == qualifier
            && (CallStatus?)e[2] == row.Status && (CallEndReason)e[3] == row.EndReason);
    }

    [Fact]
    public void The_tables_have_exactly_the_expected_rows()
    {
        Assert.Equal(ExpectedTwilio.Count(), CallStatusMapping.TwilioRows.Count);
        Assert.Equal(ExpectedTelnyx.Count(), CallStatusMapping.TelnyxRows.Count);
        Assert.Equal(CallStatusMapping.TwilioRows.Count, CallStatusMapping.TwilioRows.Select(r => r.ProviderValue).Distinct().Count());
        Assert.Equal(CallStatusMapping.TelnyxRows.Count, CallStatusMapping.TelnyxRows.Select(r => r.ProviderValue).Distinct().Count());
    }

    [Theory]
    [InlineData("queued")]
    [InlineData("initiated")]
    [InlineData("ringing")]
    [InlineData("in-progress")]
    [InlineData("completed")]
    [InlineData("busy")]
    [InlineData("failed")]
    [InlineData("no-answer")]
    [InlineData("canceled")]
    public void Every_documented_twilio_call_status_is_known(string callStatus)
    {
        Assert.True(CallStatusMapping.IsKnownTwilioStatus(callStatus));
        Assert.NotNull(CallStatusMapping.FromTwilio(callStatus).Status);
    }

    [Theory]
    [InlineData("human")]
    [InlineData("unknown")]
    [InlineData(null)]
    public void A_completed_call_answered_by_a_person_or_unknown_ends_normally(string? answeredBy)
    {
        Assert.Equal((CallStatus.Completed, CallEndReason.Normal), CallStatusMapping.FromTwilio("completed", answeredBy));
    }

    [Fact]
    public void A_machine_answer_does_not_change_a_call_that_has_not_ended()
    {
        Assert.Equal((CallStatus.Answered, CallEndReason.None), CallStatusMapping.FromTwilio("in-progress", "machine_start"));
    }

    [Fact]
    public void Twilio_status_is_matched_without_regard_to_case()
    {
        Assert.Equal((CallStatus.Answered, CallEndReason.None), CallStatusMapping.FromTwilio("In-Progress"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("answered")]
    [InlineData("completed:machine_start")]
    [InlineData("in progress")]
    public void Unknown_twilio_status_maps_to_no_state(string callStatus)
    {
        Assert.False(CallStatusMapping.IsKnownTwilioStatus(callStatus));
        Assert.Equal((null, CallEndReason.None), CallStatusMapping.FromTwilio(callStatus));
    }

    [Fact]
    public void Telnyx_hangup_with_an_unknown_cause_is_completed_for_an_unknown_reason()
    {
        Assert.Equal((CallStatus.Completed, CallEndReason.Unknown), CallStatusMapping.FromTelnyx("call.hangup", "something_new"));
    }

    [Theory]
    [InlineData("streaming.started")]
    [InlineData("conference.created")]
    [InlineData("call.something.new")]
    [InlineData("")]
    [InlineData("call.hangup:normal_clearing")]
    public void Telnyx_events_that_do_not_move_the_call_map_to_no_state(string eventType)
    {
        Assert.Equal((null, CallEndReason.None), CallStatusMapping.FromTelnyx(eventType, "normal_clearing"));
    }

    [Fact]
    public void A_hangup_cause_only_qualifies_a_hangup()
    {
        Assert.Equal((CallStatus.Answered, CallEndReason.None), CallStatusMapping.FromTelnyx("call.answered", "user_busy"));
    }

    [Fact]
    public void The_mapping_document_lists_every_row_and_every_twilio_event_type()
    {
        var document = File.ReadAllText(RepositoryFile("docs/call-status-mapping.md"));

        foreach (var row in CallStatusMapping.TwilioRows.Concat(CallStatusMapping.TelnyxRows))
        {
            var (value, qualifier) = Split(row.ProviderValue);
            var cell = qualifier is null ? $"`{value}`" : $"`{qualifier}`";
            Assert.Contains(cell, document);
        }

        foreach (var eventType in typeof(TwilioEventTypes).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!))
        {
            Assert.Contains($"`{eventType}", document);
        }
    }

    private static (string Value, string? Qualifier) Split(string providerValue)
    {
        var at = providerValue.IndexOf(CallStatusMapping.QualifierSeparator);
        return at < 0 ? (providerValue, null) : (providerValue[..at], providerValue[(at + 1)..]);
    }

    private static string RepositoryFile(string relativePath)
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, relativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"{relativePath} was not found above {AppContext.BaseDirectory}.");
    }
}
