using System.Globalization;
using System.Text.Json;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Tests.Support;

/// <summary>Provider messages as Twilio (PROTOCOLS.md §3) and Telnyx (§6) send them.</summary>
public static class MediaMessages
{
    public static string NewCallSid() => "CA" + Guid.NewGuid().ToString("N");

    public static string NewCallControlId() => "v3:" + Guid.NewGuid().ToString("N");

    public static string Connected(TelephonyProvider provider) => provider == TelephonyProvider.Twilio
        ? """{"event":"connected","protocol":"Call","version":"1.0.0"}"""
        : """{"event":"connected","version":"1.0.0"}""";

    public static string TwilioStart(string callSid, string streamSid, string? token, string[]? tracks = null, IDictionary<string, string>? parameters = null)
    {
        var custom = new Dictionary<string, string>(parameters ?? new Dictionary<string, string>()) { ["callSid"] = callSid };
        if (token is not null)
        {
            custom["token"] = token;
        }

        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["event"] = "start",
            ["sequenceNumber"] = "1",
            ["start"] = new Dictionary<string, object>
            {
                ["accountSid"] = "AC00000000000000000000000000000001",
                ["streamSid"] = streamSid,
                ["callSid"] = callSid,
                ["tracks"] = tracks ?? ["inbound"],
                ["mediaFormat"] = new Dictionary<string, object> { ["encoding"] = "audio/x-mulaw", ["sampleRate"] = 8000, ["channels"] = 1 },
                ["customParameters"] = custom,
            },
            ["streamSid"] = streamSid,
        });
    }

    public static string TwilioMedia(string streamSid, long sequence, long chunk, long timestampMs, ReadOnlySpan<byte> payload, string track = "inbound") =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["event"] = "media",
            ["sequenceNumber"] = Str(sequence),
            ["media"] = new Dictionary<string, object>
            {
                ["track"] = track,
                ["chunk"] = Str(chunk),
                ["timestamp"] = Str(timestampMs),
                ["payload"] = Convert.ToBase64String(payload),
            },
            ["streamSid"] = streamSid,
        });

    public static string TwilioDtmf(string streamSid, string digit) =>
        $$$"""{"event":"dtmf","streamSid":"{{{streamSid}}}","sequenceNumber":"90","dtmf":{"track":"inbound_track","digit":"{{{digit}}}"}}""";

    public static string TwilioMark(string streamSid, string name) =>
        $$$"""{"event":"mark","sequenceNumber":"91","streamSid":"{{{streamSid}}}","mark":{"name":"{{{name}}}"}}""";

    public static string TwilioStop(string callSid, string streamSid) =>
        $$$"""{"event":"stop","sequenceNumber":"99","stop":{"accountSid":"AC00000000000000000000000000000001","callSid":"{{{callSid}}}"},"streamSid":"{{{streamSid}}}"}""";

    public static string TelnyxStart(string callControlId, string streamId, string encoding = "PCMU", int sampleRate = 8000, string? token = null, string? clientState = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["event"] = "start",
            ["sequence_number"] = "1",
            ["start"] = new Dictionary<string, object?>
            {
                ["user_id"] = "3E6F995F-85F7-4705-9741-53B116D28237",
                ["call_control_id"] = callControlId,
                ["call_session_id"] = "ff55a038-6f5d-11ef-9692-02420aeffb1f",
                ["from"] = "+13122010094",
                ["to"] = "+13122123456",
                ["client_state"] = clientState,
                ["custom_parameters"] = token is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["token"] = token },
                ["media_format"] = new Dictionary<string, object> { ["encoding"] = encoding, ["sample_rate"] = sampleRate, ["channels"] = 1 },
            },
            ["stream_id"] = streamId,
        });

    public static string TelnyxMedia(string streamId, long sequence, long chunk, long timestampMs, ReadOnlySpan<byte> payload, string track = "inbound") =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["event"] = "media",
            ["sequence_number"] = Str(sequence),
            ["media"] = new Dictionary<string, object>
            {
                ["track"] = track,
                ["chunk"] = Str(chunk),
                ["timestamp"] = Str(timestampMs),
                ["payload"] = Convert.ToBase64String(payload),
            },
            ["stream_id"] = streamId,
        });

    public static string TelnyxStop(string callControlId, string streamId) =>
        $$$"""{"event":"stop","sequence_number":"99","stop":{"user_id":"u","call_control_id":"{{{callControlId}}}"},"stream_id":"{{{streamId}}}"}""";

    private static string Str(long value) => value.ToString(CultureInfo.InvariantCulture);
}
