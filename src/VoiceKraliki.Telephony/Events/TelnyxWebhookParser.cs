using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Telephony.Events;

/// <summary>
/// Turns a Telnyx Call Control webhook envelope
/// (<c>{"data":{"record_type":"event","event_type":…,"id":…,"occurred_at":…,"payload":{…}}}</c>) into a
/// <see cref="CallEvent"/>. Only parses: the Ed25519 signature must have been checked before, and nothing here logs.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Required: <c>data.event_type</c>, <c>data.id</c>, the <c>data.payload</c> object and
/// <c>payload.call_control_id</c>; an event that is not <c>call.*</c> and has no call control id (a conference event)
/// uses <c>payload.conference_id</c> instead.</item>
/// <item>A known field of the wrong JSON type, or a date that does not parse, rejects the envelope.</item>
/// <item>Unknown event types are accepted with a null <see cref="CallEvent.Status"/>: Telnyx adds events often.</item>
/// <item><see cref="CallEvent.RawFields"/> holds the scalars of <c>data</c> (<c>"event_type"</c>, <c>"id"</c>…) and of the
/// payload, flattened (<c>"payload.from"</c>, <c>"payload.recording_urls.mp3"</c>, <c>"payload.custom_headers[0].name"</c>);
/// JSON nulls are left out and at most <see cref="MaxRawFields"/> are kept.</item>
/// </list>
/// </remarks>
public static class TelnyxWebhookParser
{
    /// <summary>Real envelopes nest four or five levels; anything deeper is refused before it is walked.</summary>
    public const int MaxDepth = 16;

    public const int MaxRawFields = 512;

    public static bool TryParse(
        ReadOnlySpan<byte> json,
        DateTimeOffset receivedAt,
        [NotNullWhen(true)] out CallEvent? callEvent,
        [NotNullWhen(false)] out string? error)
    {
        callEvent = null;
        if (json.IsEmpty)
        {
            error = "the body is empty";
            return false;
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
            document = JsonDocument.ParseValue(ref reader);
            if (reader.Read())
            {
                document.Dispose();
                error = "the body has content after the JSON object";
                return false;
            }
        }
        catch (JsonException ex)
        {
            error = "the body is not valid JSON: " + ex.Message;
            return false;
        }

        using (document)
        {
            try
            {
                return TryRead(document.RootElement, receivedAt, out callEvent, out error);
            }
            catch (InvalidOperationException)
            {
                // JsonElement.GetString refuses strings that are not valid UTF-8; the reader lets them through.
                callEvent = null;
                error = "the body contains a string that is not valid UTF-8";
                return false;
            }
        }
    }

    /// <summary>Telnyx <c>direction</c>: <c>incoming</c> or <c>outgoing</c>; anything else is unknown.</summary>
    public static CallDirection ToDirection(string? direction) => direction switch
    {
        "incoming" => CallDirection.Inbound,
        "outgoing" => CallDirection.Outbound,
        _ => CallDirection.Unknown,
    };

    /// <summary>
    /// Telnyx machine-detection <c>result</c> as <c>human</c>, <c>machine</c> or <c>not_sure</c>. The premium detector's
    /// finer results fold in: <c>human_residence</c>/<c>human_business</c> → human, <c>fax_detected</c> → machine,
    /// <c>silence</c> and anything unknown → not_sure.
    /// </summary>
    public static string NormalizeMachineDetection(string result) => result switch
    {
        "human" or "human_residence" or "human_business" => "human",
        "machine" or "fax_detected" => "machine",
        _ => "not_sure",
    };

    private static bool TryRead(
        JsonElement root,
        DateTimeOffset receivedAt,
        [NotNullWhen(true)] out CallEvent? callEvent,
        [NotNullWhen(false)] out string? error)
    {
        callEvent = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = $"the body must be a JSON object, not {Describe(root.ValueKind)}";
            return false;
        }

        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object)
        {
            error = "data is missing or is not an object";
            return false;
        }

        if (!TryGetString(data, "record_type", "data.record_type", out var recordType, out error))
        {
            return false;
        }

        if (recordType is not null && recordType != "event")
        {
            error = $"data.record_type is {WebhookText.Quote(recordType)}, not 'event'";
            return false;
        }

        if (!TryGetString(data, "event_type", "data.event_type", out var eventType, out error)
            || !TryGetString(data, "id", "data.id", out var eventId, out error)
            || !TryGetString(data, "occurred_at", "data.occurred_at", out var occurredAtText, out error))
        {
            return false;
        }

        if (eventType is null)
        {
            error = "data.event_type is missing";
            return false;
        }

        if (!WebhookText.IsToken(eventType, maxLength: 128))
        {
            error = $"data.event_type {WebhookText.Quote(eventType)} is not a valid event type";
            return false;
        }

        if (eventId is null)
        {
            error = "data.id is missing";
            return false;
        }

        if (!WebhookText.IsIdentifier(eventId))
        {
            error = $"data.id {WebhookText.Quote(eventId)} is not a valid id";
            return false;
        }

        var occurredAt = receivedAt;
        if (occurredAtText is not null && !TryParseDate(occurredAtText, out occurredAt))
        {
            error = $"data.occurred_at {WebhookText.Quote(occurredAtText)} is not an RFC 3339 date";
            return false;
        }

        if (!data.TryGetProperty("payload", out var payload) || payload.ValueKind != JsonValueKind.Object)
        {
            error = "data.payload is missing or is not an object";
            return false;
        }

        if (!TryGetString(payload, "call_control_id", "data.payload.call_control_id", out var callControlId, out error)
            || !TryGetString(payload, "call_session_id", "data.payload.call_session_id", out var sessionId, out error)
            || !TryGetString(payload, "call_leg_id", "data.payload.call_leg_id", out var legId, out error)
            || !TryGetString(payload, "state", "data.payload.state", out var state, out error)
            || !TryGetString(payload, "from", "data.payload.from", out var from, out error)
            || !TryGetString(payload, "to", "data.payload.to", out var to, out error)
            || !TryGetString(payload, "direction", "data.payload.direction", out var direction, out error)
            || !TryGetString(payload, "hangup_cause", "data.payload.hangup_cause", out var hangupCause, out error)
            || !TryGetString(payload, "client_state", "data.payload.client_state", out var clientState, out error))
        {
            return false;
        }

        var providerCallId = callControlId;
        if (providerCallId is null && !eventType.StartsWith("call.", StringComparison.Ordinal)
            && !TryGetString(payload, "conference_id", "data.payload.conference_id", out providerCallId, out error))
        {
            return false;
        }

        if (providerCallId is null)
        {
            error = "data.payload.call_control_id is missing";
            return false;
        }

        if (!WebhookText.IsIdentifier(providerCallId))
        {
            error = $"data.payload.call_control_id {WebhookText.Quote(providerCallId)} is not a valid call id";
            return false;
        }

        if (!TryGetCallDuration(payload, eventType, out var callDuration, out error)
            || !TryGetRecording(payload, eventType, out var recording, out error))
        {
            return false;
        }

        string? answeredBy = null;
        if (eventType.StartsWith("call.machine.", StringComparison.Ordinal) && eventType.EndsWith(".detection.ended", StringComparison.Ordinal))
        {
            if (!TryGetString(payload, "result", "data.payload.result", out var result, out error))
            {
                return false;
            }

            answeredBy = result is null ? null : NormalizeMachineDetection(result);
        }

        var (status, endReason) = CallStatusMapping.FromTelnyx(eventType, hangupCause);

        callEvent = new CallEvent(
            Provider: TelephonyProvider.Telnyx,
            ProviderCallId: providerCallId,
            SessionId: sessionId,
            LegId: legId,
            EventType: eventType,
            ProviderEventId: eventId,
            ProviderStatus: state,
            Status: status,
            EndReason: endReason,
            From: from,
            To: to,
            Direction: ToDirection(direction),
            OccurredAt: occurredAt,
            Sequence: null,
            AnsweredBy: answeredBy,
            HangupCause: hangupCause,
            Recording: recording,
            ClientState: clientState,
            RawFields: Flatten(data))
        {
            CallDuration = callDuration,
        };
        error = null;
        return true;
    }

    private static bool TryGetString(
        JsonElement parent,
        string name,
        string path,
        out string? value,
        [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            error = $"{path} must be a string, not {Describe(element.ValueKind)}";
            return false;
        }

        var text = element.GetString();
        value = string.IsNullOrEmpty(text) ? null : text;
        return true;
    }

    private static bool TryGetDate(
        JsonElement parent,
        string name,
        string path,
        out DateTimeOffset? value,
        [NotNullWhen(false)] out string? error)
    {
        value = null;
        if (!TryGetString(parent, name, path, out var text, out error))
        {
            return false;
        }

        if (text is null)
        {
            return true;
        }

        if (!TryParseDate(text, out var parsed))
        {
            error = $"{path} {WebhookText.Quote(text)} is not an RFC 3339 date";
            return false;
        }

        value = parsed;
        return true;
    }

    private static bool TryParseDate(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParseExact(
            text,
            ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK"],
            CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal,
            out value);

    private static bool TryGetCallDuration(
        JsonElement payload,
        string eventType,
        out TimeSpan? duration,
        [NotNullWhen(false)] out string? error)
    {
        duration = null;
        error = null;
        if (eventType != "call.hangup")
        {
            return true;
        }

        if (!TryGetDate(payload, "start_time", "data.payload.start_time", out var start, out error)
            || !TryGetDate(payload, "end_time", "data.payload.end_time", out var end, out error))
        {
            return false;
        }

        if (start is { } s && end is { } e && e >= s)
        {
            duration = e - s;
        }

        return true;
    }

    private static bool TryGetRecording(
        JsonElement payload,
        string eventType,
        out RecordingInfo? recording,
        [NotNullWhen(false)] out string? error)
    {
        recording = null;
        error = null;
        var status = eventType switch
        {
            "call.recording.saved" => "saved",
            "call.recording.error" => "error",
            _ => null,
        };
        if (status is null)
        {
            return true;
        }

        if (!TryGetString(payload, "recording_id", "data.payload.recording_id", out var recordingId, out error)
            || !TryGetUrl(payload, "recording_urls", out var url, out error)
            || !TryGetUrl(payload, "public_recording_urls", out var publicUrl, out error)
            || !TryGetDate(payload, "recording_started_at", "data.payload.recording_started_at", out var started, out error)
            || !TryGetDate(payload, "recording_ended_at", "data.payload.recording_ended_at", out var ended, out error))
        {
            return false;
        }

        TimeSpan? duration = started is { } s && ended is { } e && e >= s ? e - s : null;
        recording = new RecordingInfo(recordingId, url ?? publicUrl, duration, status);
        return true;
    }

    private static bool TryGetUrl(JsonElement payload, string name, out string? url, [NotNullWhen(false)] out string? error)
    {
        url = null;
        error = null;
        if (!payload.TryGetProperty(name, out var urls) || urls.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (urls.ValueKind != JsonValueKind.Object)
        {
            error = $"data.payload.{name} must be an object, not {Describe(urls.ValueKind)}";
            return false;
        }

        if (!TryGetString(urls, "mp3", $"data.payload.{name}.mp3", out var mp3, out error)
            || !TryGetString(urls, "wav", $"data.payload.{name}.wav", out var wav, out error))
        {
            return false;
        }

        url = mp3 ?? wav;
        return true;
    }

    private static FrozenDictionary<string, string> Flatten(JsonElement data)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in data.EnumerateObject())
        {
            if (property.NameEquals("payload"))
            {
                if (property.Value.ValueKind == JsonValueKind.Object)
                {
                    FlattenInto(fields, "payload", property.Value);
                }
            }
            else if (property.Value.ValueKind is not (JsonValueKind.Object or JsonValueKind.Array))
            {
                Add(fields, property.Name, property.Value);
            }
        }

        return fields.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static void FlattenInto(Dictionary<string, string> fields, string prefix, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (fields.Count >= MaxRawFields)
                    {
                        return;
                    }

                    FlattenInto(fields, prefix + "." + property.Name, property.Value);
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (fields.Count >= MaxRawFields)
                    {
                        return;
                    }

                    FlattenInto(fields, string.Create(CultureInfo.InvariantCulture, $"{prefix}[{index++}]"), item);
                }

                break;
            default:
                Add(fields, prefix, element);
                break;
        }
    }

    private static void Add(Dictionary<string, string> fields, string name, JsonElement value)
    {
        if (fields.Count >= MaxRawFields)
        {
            return;
        }

        var text = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
        if (text is not null)
        {
            fields[name] = text;
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
