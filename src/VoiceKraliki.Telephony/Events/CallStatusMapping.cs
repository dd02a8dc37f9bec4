using System.Collections.Frozen;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Telephony.Events;

/// <summary>
/// How each provider's call status maps onto our seven <see cref="CallStatus"/> values and a
/// <see cref="CallEndReason"/>. docs/call-status-mapping.md explains the rows; tests pin every one.
/// </summary>
/// <remarks>
/// A row's <c>ProviderValue</c> is either a plain provider value (<c>"completed"</c>, <c>"call.answered"</c>) or
/// <c>"value:qualifier"</c> where the qualifier is the second argument of <see cref="FromTwilio"/> /
/// <see cref="FromTelnyx"/> (<c>"completed:machine_start"</c>, <c>"call.hangup:user_busy"</c>).
/// <para>
/// Busy, unanswered, canceled and rejected calls end as <see cref="CallStatus.Completed"/>: they reached the
/// network and ended in an ordinary outcome, which the end reason names. <see cref="CallStatus.Failed"/> is
/// kept for calls the network could not set up at all.
/// </para>
/// </remarks>
public static class CallStatusMapping
{
    /// <summary>The qualifier separator used in <see cref="TwilioRows"/> and <see cref="TelnyxRows"/>.</summary>
    public const char QualifierSeparator = ':';

    /// <summary>The <c>AnsweredBy</c> values that mean a machine (or fax) took the call.</summary>
    public static IReadOnlyList<string> TwilioMachineAnswers { get; } =
        ["machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"];

    public static IReadOnlyList<(string ProviderValue, CallStatus? Status, CallEndReason EndReason)> TwilioRows { get; } = BuildTwilioRows();

    public static IReadOnlyList<(string ProviderValue, CallStatus? Status, CallEndReason EndReason)> TelnyxRows { get; } =
    [
        ("call.initiated", CallStatus.Initiated, CallEndReason.None),
        ("call.answered", CallStatus.Answered, CallEndReason.None),
        ("call.bridged", CallStatus.Answered, CallEndReason.None),
        ("call.hold", CallStatus.OnHold, CallEndReason.None),
        ("call.unhold", CallStatus.Answered, CallEndReason.None),
        ("call.enqueued", CallStatus.OnHold, CallEndReason.None),
        ("call.dequeued", CallStatus.Answered, CallEndReason.None),
        ("call.refer.started", CallStatus.Transferring, CallEndReason.None),
        ("call.refer.completed", null, CallEndReason.None),
        ("call.refer.failed", CallStatus.Answered, CallEndReason.None),
        ("call.hangup", CallStatus.Completed, CallEndReason.Unknown),
        ("call.hangup:normal_clearing", CallStatus.Completed, CallEndReason.Normal),
        ("call.hangup:originator_cancel", CallStatus.Completed, CallEndReason.Canceled),
        ("call.hangup:call_rejected", CallStatus.Completed, CallEndReason.Rejected),
        ("call.hangup:user_busy", CallStatus.Completed, CallEndReason.Busy),
        ("call.hangup:no_answer", CallStatus.Completed, CallEndReason.NoAnswer),
        ("call.hangup:timeout", CallStatus.Completed, CallEndReason.NoAnswer),
        ("call.hangup:time_limit", CallStatus.Completed, CallEndReason.TimeLimit),
        ("call.hangup:not_found", CallStatus.Failed, CallEndReason.Failed),
        ("call.hangup:unspecified", CallStatus.Completed, CallEndReason.Unknown),
        ("call.dtmf.received", null, CallEndReason.None),
        ("call.gather.ended", null, CallEndReason.None),
        ("call.playback.started", null, CallEndReason.None),
        ("call.playback.ended", null, CallEndReason.None),
        ("call.speak.started", null, CallEndReason.None),
        ("call.speak.ended", null, CallEndReason.None),
        ("call.recording.saved", null, CallEndReason.None),
        ("call.machine.detection.ended", null, CallEndReason.None),
        ("call.machine.greeting.ended", null, CallEndReason.None),
    ];

    private static readonly FrozenDictionary<string, (CallStatus? Status, CallEndReason EndReason)> Twilio =
        TwilioRows.ToFrozenDictionary(r => r.ProviderValue, r => (r.Status, r.EndReason), StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, (CallStatus? Status, CallEndReason EndReason)> Telnyx =
        TelnyxRows.ToFrozenDictionary(r => r.ProviderValue, r => (r.Status, r.EndReason), StringComparer.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="callStatus"/> is one of the nine values Twilio documents.</summary>
    public static bool IsKnownTwilioStatus(string? callStatus) =>
        !string.IsNullOrEmpty(callStatus) && callStatus.IndexOf(QualifierSeparator) < 0 && Twilio.ContainsKey(callStatus);

    /// <summary>
    /// Maps a Twilio <c>CallStatus</c>. A completed call that AMD says a machine answered ends with
    /// <see cref="CallEndReason.MachineDetected"/>. An unknown status maps to <c>(null, None)</c>.
    /// </summary>
    public static (CallStatus? Status, CallEndReason EndReason) FromTwilio(string callStatus, string? answeredBy = null)
    {
        if (!IsKnownTwilioStatus(callStatus))
        {
            return (null, CallEndReason.None);
        }

        if (!string.IsNullOrEmpty(answeredBy) && answeredBy.IndexOf(QualifierSeparator) < 0
            && Twilio.TryGetValue(string.Concat(callStatus, ":", answeredBy), out var qualified))
        {
            return qualified;
        }

        return Twilio[callStatus];
    }

    /// <summary>
    /// Maps a Telnyx <c>event_type</c> (and, for <c>call.hangup</c>, its <c>hangup_cause</c>). Events that do not
    /// move the call (dtmf, playback, unknown event types…) map to <c>(null, None)</c>; a hangup with a cause we
    /// do not know is a completed call with <see cref="CallEndReason.Unknown"/>.
    /// </summary>
    public static (CallStatus? Status, CallEndReason EndReason) FromTelnyx(string eventType, string? hangupCause = null)
    {
        if (string.IsNullOrEmpty(eventType) || eventType.IndexOf(QualifierSeparator) >= 0
            || !Telnyx.TryGetValue(eventType, out var plain))
        {
            return (null, CallEndReason.None);
        }

        if (!string.IsNullOrEmpty(hangupCause) && hangupCause.IndexOf(QualifierSeparator) < 0
            && Telnyx.TryGetValue(string.Concat(eventType, ":", hangupCause), out var qualified))
        {
            return qualified;
        }

        return plain;
    }

    private static List<(string, CallStatus?, CallEndReason)> BuildTwilioRows()
    {
        List<(string, CallStatus?, CallEndReason)> rows =
        [
            ("queued", CallStatus.Initiated, CallEndReason.None),
            ("initiated", CallStatus.Initiated, CallEndReason.None),
            ("ringing", CallStatus.Ringing, CallEndReason.None),
            ("in-progress", CallStatus.Answered, CallEndReason.None),
            ("completed", CallStatus.Completed, CallEndReason.Normal),
            ("busy", CallStatus.Completed, CallEndReason.Busy),
            ("no-answer", CallStatus.Completed, CallEndReason.NoAnswer),
            ("canceled", CallStatus.Completed, CallEndReason.Canceled),
            ("failed", CallStatus.Failed, CallEndReason.Failed),
        ];
        foreach (var machine in TwilioMachineAnswers)
        {
            rows.Add(("completed:" + machine, CallStatus.Completed, CallEndReason.MachineDetected));
        }

        return rows;
    }
}
