using VoiceKraliki.Contracts;

namespace VoiceKraliki.Telephony.Events;

/// <summary>A recording a provider reported on; every part is optional because providers send them piecemeal.</summary>
public sealed record RecordingInfo(string? RecordingId, string? Url, TimeSpan? Duration, string? Status);

/// <summary>
/// One provider webhook, normalized. Parsers build it from untrusted input; nothing in it has been
/// checked against our own call records yet. <see cref="From"/> and <see cref="To"/> are personal data.
/// </summary>
public sealed record CallEvent(
    TelephonyProvider Provider,
    string ProviderCallId,
    string? SessionId,
    string? LegId,
    string EventType,
    string? ProviderEventId,
    string? ProviderStatus,
    CallStatus? Status,
    CallEndReason EndReason,
    string? From,
    string? To,
    CallDirection Direction,
    DateTimeOffset OccurredAt,
    long? Sequence,
    string? AnsweredBy,
    string? HangupCause,
    RecordingInfo? Recording,
    string? ClientState,
    IReadOnlyDictionary<string, string> RawFields)
{
    /// <summary>How long the call lasted, when the provider says so (Twilio <c>CallDuration</c>; Telnyx hangup <c>end_time - start_time</c>).</summary>
    public TimeSpan? CallDuration { get; init; }
}
