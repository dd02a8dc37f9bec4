using System.Text.Json;
using System.Text.Json.Nodes;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Persistence;

/// <summary>
/// The <c>calls.metadata</c> JSON: provider details that are not columns. An applied event replaces what it
/// carries (and the raw fields); an ignored one, being stale or status-less, only fills in what is still
/// missing (a late <c>answered_by</c> or recording is worth keeping, a stale status is not).
/// </summary>
public static class CallMetadata
{
    public const string AnsweredBy = "answered_by";
    public const string HangupCause = "hangup_cause";
    public const string LastEventType = "last_event_type";
    public const string LastProviderStatus = "last_provider_status";
    public const string LastEventId = "last_event_id";
    public const string LegId = "leg_id";
    public const string ClientState = "client_state";
    public const string Recording = "recording";
    public const string RawFields = "raw_fields";

    public static string Merge(string? current, CallEventReceived e, bool applied)
    {
        var json = (string.IsNullOrEmpty(current) ? null : JsonNode.Parse(current) as JsonObject) ?? [];
        Set(json, AnsweredBy, e.AnsweredBy, applied);
        Set(json, HangupCause, e.HangupCause, applied);
        Set(json, LegId, e.LegId, applied);
        Set(json, ClientState, e.ClientState, applied);
        if (e.Recording is { } recording && (applied || !json.ContainsKey(Recording)))
        {
            json[Recording] = JsonSerializer.SerializeToNode(recording, JsonSerializerOptions.Web);
        }

        if (applied)
        {
            json[LastEventType] = e.EventType;
            json[LastProviderStatus] = e.ProviderStatus;
            json[LastEventId] = e.EventId.ToString();
            var raw = new JsonObject();
            foreach (var (key, value) in e.RawFields)
            {
                raw[key] = value;
            }

            json[RawFields] = raw;
        }

        return json.ToJsonString();
    }

    private static void Set(JsonObject json, string key, string? value, bool overwrite)
    {
        if (!string.IsNullOrEmpty(value) && (overwrite || !json.ContainsKey(key)))
        {
            json[key] = value;
        }
    }
}
