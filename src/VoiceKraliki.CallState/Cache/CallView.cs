using System.Text.Json;
using VoiceKraliki.CallState.Calls;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.CallState.Reconciliation;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Cache;

/// <summary>
/// One call as <c>GET /api/calls/{id}</c> answers it and as the fast tier stores it (the same JSON either way), so
/// an answer from Redis and one from Postgres cannot differ. Times are UTC to the microsecond, as Postgres keeps them.
/// </summary>
/// <param name="AppliedTransitions">How many events changed the state (0: a placeholder, see docs/call-state-machine.md).</param>
/// <param name="AnsweredBy">From <c>metadata.answered_by</c> (Twilio AMD: <c>human</c>, <c>machine_start</c>…).</param>
/// <param name="HangupCause">From <c>metadata.hangup_cause</c> (Telnyx).</param>
/// <param name="StuckSince">
/// When stuck-call detection flagged the call in its current state; null when it is not flagged, or when the call
/// has moved since (a flag only holds for the state and update it was raised on).
/// </param>
public sealed record CallView(
    string ProviderCallId,
    string? SessionId,
    TelephonyProvider Provider,
    CallDirection Direction,
    CallStatus Status,
    CallEndReason EndReason,
    string? From,
    string? To,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? AnsweredAt,
    DateTimeOffset? EndedAt,
    int AppliedTransitions,
    string? AnsweredBy,
    string? HangupCause,
    DateTimeOffset? StuckSince)
{
    /// <summary>The JSON of the fast tier's snapshots (the API's, too: web defaults, enums by name).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web);

    public static CallView Of(CallRecord call) => Of(call.ToSnapshot(), call.Metadata);

    public static CallView Of(CallSnapshot call, string? metadata)
    {
        var updatedAt = Utc(call.UpdatedAt);
        string? answeredBy = null;
        string? hangupCause = null;
        DateTimeOffset? stuckSince = null;
        if (!string.IsNullOrEmpty(metadata))
        {
            using var json = JsonDocument.Parse(metadata);
            var root = json.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                answeredBy = Text(root, CallMetadata.AnsweredBy);
                hangupCause = Text(root, CallMetadata.HangupCause);
                stuckSince = StuckMarker.CurrentSince(root, call.Status, updatedAt);
            }
        }

        return new CallView(
            call.ProviderCallId,
            call.SessionId,
            call.Provider,
            call.Direction,
            call.Status,
            call.EndReason,
            call.From,
            call.To,
            Utc(call.CreatedAt),
            updatedAt,
            Utc(call.AnsweredAt),
            Utc(call.EndedAt),
            call.AppliedTransitions,
            answeredBy,
            hangupCause,
            stuckSince);
    }

    public static bool IsLive(CallStatus status) => !CallStateMachine.IsTerminal(status);

    /// <summary>UTC, truncated to the microsecond like a <c>timestamptz</c> written by Npgsql.</summary>
    public static DateTimeOffset Utc(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);

    private static DateTimeOffset? Utc(DateTimeOffset? time) => time is { } t ? Utc(t) : null;

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
