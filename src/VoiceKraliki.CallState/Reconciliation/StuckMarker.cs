using System.Text.Json;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Reconciliation;

/// <summary>
/// The keys <see cref="StuckCallDetector"/> sets in <c>calls.metadata</c>. The event processor never clears them, so
/// a flag holds only while the call is still in the state, and at the update, it was flagged in: once the call moves,
/// the old keys describe the past and the call can be flagged again.
/// </summary>
public static class StuckMarker
{
    /// <summary>When the call was flagged (detector's clock).</summary>
    public const string Since = "stuck_since";

    /// <summary>The state it was stuck in, as stored (<c>ringing</c>, <c>on_hold</c>…).</summary>
    public const string Status = "stuck_status";

    /// <summary>The call's <c>updated_at</c> when it was flagged.</summary>
    public const string UpdatedAt = "stuck_updated_at";

    /// <summary>The flag's time if it is about <paramref name="status"/> at <paramref name="updatedAt"/>, else null.</summary>
    public static DateTimeOffset? CurrentSince(JsonElement metadata, CallStatus status, DateTimeOffset updatedAt)
    {
        if (!TryGetTime(metadata, Since, out var since)
            || !TryGetTime(metadata, UpdatedAt, out var flaggedAt)
            || !metadata.TryGetProperty(Status, out var flaggedStatus)
            || flaggedStatus.ValueKind != JsonValueKind.String
            || !string.Equals(flaggedStatus.GetString(), DbEnum<CallStatus>.ToDb(status), StringComparison.Ordinal)
            || CallView.Utc(flaggedAt) != CallView.Utc(updatedAt))
        {
            return null;
        }

        return CallView.Utc(since);
    }

    private static bool TryGetTime(JsonElement metadata, string name, out DateTimeOffset value)
    {
        value = default;
        return metadata.TryGetProperty(name, out var element)
               && element.ValueKind == JsonValueKind.String
               && element.TryGetDateTimeOffset(out value);
    }
}
