namespace VoiceKraliki.Telephony.Events;

/// <summary>
/// The <see cref="CallEvent.EventType"/> names <see cref="TwilioWebhookParser"/> produces. Twilio has no event
/// names of its own, so these are ours (listed in docs/call-status-mapping.md); where Telnyx has the same
/// moment (<c>call.initiated</c>, <c>call.answered</c>) the name is the same.
/// </summary>
public static class TwilioEventTypes
{
    public const string CallQueued = "call.queued";
    public const string CallInitiated = "call.initiated";
    public const string CallRinging = "call.ringing";

    /// <summary>CallStatus <c>in-progress</c>: Twilio's own status-callback event for it is <c>answered</c>.</summary>
    public const string CallAnswered = "call.answered";

    public const string CallCompleted = "call.completed";
    public const string CallBusy = "call.busy";
    public const string CallNoAnswer = "call.no-answer";
    public const string CallCanceled = "call.canceled";
    public const string CallFailed = "call.failed";

    /// <summary>An asynchronous answering-machine-detection result (<c>AnsweredBy</c> without a <c>CallStatus</c>).</summary>
    public const string AmdCompleted = "amd.completed";

    /// <summary>Recording callbacks are <c>recording.</c> + Twilio's <c>RecordingStatus</c> (<c>recording.completed</c>, <c>recording.absent</c>…).</summary>
    public const string RecordingPrefix = "recording.";

    /// <summary>A recording callback without a <c>RecordingStatus</c> (for example a <c>&lt;Record action&gt;</c> request).</summary>
    public const string RecordingReceived = "recording.received";

    /// <summary>The event type for a known Twilio <c>CallStatus</c>, or null for an unknown one.</summary>
    public static string? ForCallStatus(string callStatus) => callStatus.ToLowerInvariant() switch
    {
        "queued" => CallQueued,
        "initiated" => CallInitiated,
        "ringing" => CallRinging,
        "in-progress" => CallAnswered,
        "completed" => CallCompleted,
        "busy" => CallBusy,
        "no-answer" => CallNoAnswer,
        "canceled" => CallCanceled,
        "failed" => CallFailed,
        _ => null,
    };
}
