using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Events;

namespace VoiceKraliki.WebhookIngress.Webhooks;

/// <summary>
/// What makes two deliveries "the same webhook": Twilio's idempotency token when it sends one, else
/// the fields that identify the event (PROTOCOLS.md §1); Telnyx's <c>data.id</c>. The event id
/// published is derived from the same key, so a webhook that reaches the bus twice (a confirm lost in
/// a broker failover) still carries one event id that consumers de-duplicate on.
/// </summary>
public static class IdempotencyKeys
{
    public static string For(WebhookRequest request, CallEvent callEvent)
    {
        if (request.Provider == TelephonyProvider.Telnyx)
        {
            return callEvent.ProviderEventId ?? $"{callEvent.ProviderCallId}|{callEvent.EventType}|{callEvent.OccurredAt.ToUnixTimeMilliseconds()}";
        }

        if (!string.IsNullOrWhiteSpace(request.IdempotencyToken))
        {
            return "token|" + request.IdempotencyToken.Trim();
        }

        var raw = callEvent.RawFields;
        return string.Join('|',
            callEvent.ProviderCallId,
            raw.GetValueOrDefault("CallStatus"),
            raw.GetValueOrDefault("SequenceNumber"),
            request.Kind,
            raw.GetValueOrDefault("RecordingSid"),
            raw.GetValueOrDefault("RecordingStatus"),
            raw.GetValueOrDefault("AnsweredBy"));
    }

    /// <summary>A name-based UUID (version 8, SHA-256) of provider and key.</summary>
    public static Guid EventId(TelephonyProvider provider, string key) => NameBasedGuid.Create($"{provider}|{key}");
}
