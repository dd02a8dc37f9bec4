using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Telephony.Events;

/// <summary>
/// Turns the form fields of a Twilio voice webhook or callback into a <see cref="CallEvent"/>.
/// Only parses: the signature must have been checked before, and nothing here logs (the form carries phone numbers).
/// </summary>
/// <remarks>
/// Rules (docs/call-status-mapping.md has the event names):
/// <list type="bullet">
/// <item>A repeated field keeps its last value, in <see cref="CallEvent.RawFields"/> too. Empty fields count as absent.</item>
/// <item><c>CallSid</c> is always required. <c>CallStatus</c> is required for the <c>voice</c>, <c>status</c> and
/// <c>fallback</c> kinds and for any callback that is neither a recording nor an AMD result; when present it must be one
/// of the nine documented values, otherwise the request is rejected rather than guessed at.</item>
/// <item>Kind <c>recording</c>, or any callback with a <c>RecordingStatus</c>, is a recording event; kind <c>amd</c>, or an
/// <c>AnsweredBy</c> without a <c>CallStatus</c>, is an AMD result. Neither changes the call state unless a
/// <c>CallStatus</c> came with it.</item>
/// <item><c>Timestamp</c>, <c>SequenceNumber</c>, <c>CallDuration</c> and <c>RecordingDuration</c> are optional, but a
/// present value that does not parse rejects the request.</item>
/// </list>
/// </remarks>
public static class TwilioWebhookParser
{
    /// <summary>More fields than any Twilio callback sends (they send about 20–30).</summary>
    public const int MaxFields = 256;

    public const int MaxFieldNameLength = 256;

    public const int MaxFieldValueLength = 8192;

    /// <summary>Durations above this (about 68 years) are garbage, not calls.</summary>
    private const long MaxSeconds = int.MaxValue;

    private static readonly string[] TimestampFormats =
    [
        "ddd, dd MMM yyyy HH:mm:ss zzz",
        "ddd, d MMM yyyy HH:mm:ss zzz",
        "r",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
    ];

    public static bool TryParse(
        IReadOnlyList<KeyValuePair<string, string>> form,
        string kind,
        DateTimeOffset receivedAt,
        [NotNullWhen(true)] out CallEvent? callEvent,
        [NotNullWhen(false)] out string? error)
    {
        callEvent = null;
        if (form is null)
        {
            error = "the form is missing";
            return false;
        }

        if (string.IsNullOrEmpty(kind))
        {
            error = "the webhook kind (the last path segment) is missing";
            return false;
        }

        if (form.Count > MaxFields)
        {
            error = $"the form has {form.Count} fields, more than the {MaxFields} allowed";
            return false;
        }

        if (!TryCollect(form, out var fields, out error))
        {
            return false;
        }

        var callSid = Get(fields, "CallSid");
        if (callSid is null)
        {
            error = "CallSid is missing";
            return false;
        }

        if (!WebhookText.IsIdentifier(callSid))
        {
            error = $"CallSid {WebhookText.Quote(callSid)} is not a valid call id";
            return false;
        }

        var callStatus = Get(fields, "CallStatus");
        if (callStatus is not null && !CallStatusMapping.IsKnownTwilioStatus(callStatus))
        {
            error = $"CallStatus {WebhookText.Quote(callStatus)} is not one of queued, initiated, ringing, in-progress, completed, busy, failed, no-answer, canceled";
            return false;
        }

        var answeredBy = Get(fields, "AnsweredBy");
        if (answeredBy is not null && !WebhookText.IsToken(answeredBy))
        {
            error = $"AnsweredBy {WebhookText.Quote(answeredBy)} is not valid";
            return false;
        }

        var recordingStatus = Get(fields, "RecordingStatus");
        if (recordingStatus is not null && !WebhookText.IsToken(recordingStatus))
        {
            error = $"RecordingStatus {WebhookText.Quote(recordingStatus)} is not valid";
            return false;
        }

        if (!TryGetEventType(fields, kind, callStatus, answeredBy, recordingStatus, out var eventType, out error)
            || !TryGetTimestamp(fields, receivedAt, out var occurredAt, out error)
            || !TryGetCount(fields, "SequenceNumber", long.MaxValue, out var sequence, out error)
            || !TryGetCount(fields, "CallDuration", MaxSeconds, out var callDurationSeconds, out error)
            || !TryGetRecording(fields, recordingStatus, out var recording, out error))
        {
            return false;
        }

        var (status, endReason) = callStatus is null
            ? ((CallStatus?)null, CallEndReason.None)
            : CallStatusMapping.FromTwilio(callStatus, answeredBy);

        callEvent = new CallEvent(
            Provider: TelephonyProvider.Twilio,
            ProviderCallId: callSid,
            SessionId: Get(fields, "ParentCallSid"),
            LegId: null,
            EventType: eventType,
            ProviderEventId: null,
            ProviderStatus: callStatus,
            Status: status,
            EndReason: endReason,
            From: Get(fields, "From"),
            To: Get(fields, "To"),
            Direction: ToDirection(Get(fields, "Direction")),
            OccurredAt: occurredAt,
            Sequence: sequence,
            AnsweredBy: answeredBy,
            HangupCause: Get(fields, "SipResponseCode") ?? Get(fields, "ErrorCode"),
            Recording: recording,
            ClientState: null,
            RawFields: fields)
        {
            CallDuration = callDurationSeconds is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
        };
        error = null;
        return true;
    }

    /// <summary>Twilio <c>Direction</c>: <c>inbound</c>, <c>outbound-api</c>, <c>outbound-dial</c>; anything else is unknown.</summary>
    public static CallDirection ToDirection(string? direction) => direction switch
    {
        null => CallDirection.Unknown,
        _ when direction.Equals("inbound", StringComparison.OrdinalIgnoreCase) => CallDirection.Inbound,
        _ when direction.StartsWith("outbound", StringComparison.OrdinalIgnoreCase) => CallDirection.Outbound,
        _ => CallDirection.Unknown,
    };

    private static bool TryCollect(
        IReadOnlyList<KeyValuePair<string, string>> form,
        out FrozenDictionary<string, string> fields,
        [NotNullWhen(false)] out string? error)
    {
        var collected = new Dictionary<string, string>(form.Count, StringComparer.Ordinal);
        foreach (var (key, value) in form)
        {
            if (string.IsNullOrEmpty(key))
            {
                continue;
            }

            if (key.Length > MaxFieldNameLength)
            {
                fields = FrozenDictionary<string, string>.Empty;
                error = $"a field name is longer than {MaxFieldNameLength} characters";
                return false;
            }

            if (value is not null && value.Length > MaxFieldValueLength)
            {
                fields = FrozenDictionary<string, string>.Empty;
                error = $"field {WebhookText.Quote(key)} is longer than {MaxFieldValueLength} characters";
                return false;
            }

            collected[key] = value ?? string.Empty;
        }

        fields = collected.ToFrozenDictionary(StringComparer.Ordinal);
        error = null;
        return true;
    }

    private static string? Get(FrozenDictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    private static bool TryGetEventType(
        FrozenDictionary<string, string> fields,
        string kind,
        string? callStatus,
        string? answeredBy,
        string? recordingStatus,
        [NotNullWhen(true)] out string? eventType,
        [NotNullWhen(false)] out string? error)
    {
        var isCallKind = kind.Equals("voice", StringComparison.OrdinalIgnoreCase)
            || kind.Equals("status", StringComparison.OrdinalIgnoreCase)
            || kind.Equals("fallback", StringComparison.OrdinalIgnoreCase);
        error = null;

        if (!isCallKind && (kind.Equals("recording", StringComparison.OrdinalIgnoreCase) || recordingStatus is not null))
        {
            if (recordingStatus is null && Get(fields, "RecordingSid") is null && Get(fields, "RecordingUrl") is null)
            {
                eventType = null;
                error = "a recording callback needs RecordingSid, RecordingUrl or RecordingStatus";
                return false;
            }

            eventType = recordingStatus is null
                ? TwilioEventTypes.RecordingReceived
                : TwilioEventTypes.RecordingPrefix + recordingStatus.ToLowerInvariant();
            return true;
        }

        if (!isCallKind && (kind.Equals("amd", StringComparison.OrdinalIgnoreCase) || (answeredBy is not null && callStatus is null)))
        {
            if (answeredBy is null)
            {
                eventType = null;
                error = "AnsweredBy is missing";
                return false;
            }

            eventType = TwilioEventTypes.AmdCompleted;
            return true;
        }

        if (callStatus is null)
        {
            eventType = null;
            error = "CallStatus is missing";
            return false;
        }

        eventType = TwilioEventTypes.ForCallStatus(callStatus)!;
        return true;
    }

    private static bool TryGetTimestamp(
        FrozenDictionary<string, string> fields,
        DateTimeOffset receivedAt,
        out DateTimeOffset occurredAt,
        [NotNullWhen(false)] out string? error)
    {
        var text = Get(fields, "Timestamp");
        if (text is null)
        {
            occurredAt = receivedAt;
            error = null;
            return true;
        }

        if (DateTimeOffset.TryParseExact(
                text,
                TimestampFormats,
                CultureInfo.InvariantCulture,
                DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal,
                out occurredAt))
        {
            error = null;
            return true;
        }

        error = $"Timestamp {WebhookText.Quote(text)} is not an RFC 1123 date";
        return false;
    }

    private static bool TryGetCount(
        FrozenDictionary<string, string> fields,
        string name,
        long max,
        out long? value,
        [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        var text = Get(fields, name);
        if (text is null)
        {
            return true;
        }

        if (!WebhookText.TryParseNonNegative(text, out var parsed) || parsed > max)
        {
            error = $"{name} {WebhookText.Quote(text)} is not a non-negative integer up to {max}";
            return false;
        }

        value = parsed;
        return true;
    }

    private static bool TryGetRecording(
        FrozenDictionary<string, string> fields,
        string? recordingStatus,
        out RecordingInfo? recording,
        [NotNullWhen(false)] out string? error)
    {
        recording = null;
        error = null;
        var sid = Get(fields, "RecordingSid");
        var url = Get(fields, "RecordingUrl");
        if (sid is null && url is null && recordingStatus is null)
        {
            return true;
        }

        TimeSpan? duration = null;
        var text = Get(fields, "RecordingDuration");
        if (text is not null)
        {
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds) || seconds > MaxSeconds)
            {
                error = $"RecordingDuration {WebhookText.Quote(text)} is not a whole number of seconds";
                return false;
            }

            // A negative length means "not known yet": keep the recording, drop the length.
            duration = seconds >= 0 ? TimeSpan.FromSeconds(seconds) : null;
        }

        recording = new RecordingInfo(sid, url, duration, recordingStatus);
        return true;
    }
}
