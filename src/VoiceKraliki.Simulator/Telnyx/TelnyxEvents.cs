using System.Text.Json;
using VoiceKraliki.Simulator.Calls;
using VoiceKraliki.Simulator.Webhooks;
using VoiceKraliki.Telephony.Signatures;

namespace VoiceKraliki.Simulator.Telnyx;

/// <summary>
/// Telnyx Call Control events: a JSON envelope per event (<c>call.initiated</c>, <c>call.answered</c>,
/// <c>call.machine.detection.ended</c> when AMD was asked, <c>call.hangup</c>) POSTed to the call's
/// <c>webhook_url</c> or the configured one, signed with Ed25519 over <c>timestamp|body</c>. Each retry
/// re-signs a body whose <c>meta.attempt</c> counts up; <c>data.id</c> stays the same.
/// </summary>
internal sealed class TelnyxEvents(TelnyxSimulatorOptions options, TelnyxWebhookSigner signer, WebhookSender sender, TimeProvider time) : ICallNotifier
{
    public async Task NotifyAsync(SimulatedCall call, CallStage stage, CancellationToken cancellationToken)
    {
        var url = call.WebhookUrl ?? options.WebhookUrl;
        if (url is null)
        {
            return;
        }

        switch (stage)
        {
            case CallStage.Initiated:
                await SendAsync(url, call, "call.initiated", p => p["state"] = "bridging", cancellationToken);
                break;
            case CallStage.Answered:
                await SendAsync(url, call, "call.answered", p => p["state"] = "answered", cancellationToken);
                string? answeredBy;
                lock (call.Gate)
                {
                    answeredBy = call.AnsweredBy;
                }

                if (answeredBy is not null)
                {
                    await SendAsync(url, call, "call.machine.detection.ended", p => p["result"] = answeredBy == "human" ? "human" : "machine", cancellationToken);
                }

                break;
            case CallStage.Ended:
                await SendAsync(url, call, "call.hangup", p =>
                {
                    p["state"] = "hangup";
                    p["hangup_cause"] = call.HangupCause;
                    p["hangup_source"] = call.HangupSource;
                    p["sip_hangup_cause"] = call.Status switch
                    {
                        CallStatuses.Busy => "486",
                        CallStatuses.NoAnswer => "480",
                        CallStatuses.Failed => "503",
                        CallStatuses.Canceled => "487",
                        _ => "200",
                    };
                    p["end_time"] = call.EndedAt;
                }, cancellationToken);
                break;
        }
    }

    private async Task SendAsync(string url, SimulatedCall call, string eventType, Action<Dictionary<string, object?>> details, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid().ToString();
        var occurredAt = time.GetUtcNow();
        Dictionary<string, object?> payload;
        lock (call.Gate)
        {
            payload = new Dictionary<string, object?>
            {
                ["call_control_id"] = call.Id,
                ["call_leg_id"] = call.CallLegId,
                ["call_session_id"] = call.CallSessionId,
                ["connection_id"] = call.ConnectionId,
                ["client_state"] = call.ClientState,
                ["from"] = call.From,
                ["to"] = call.To,
                ["direction"] = "outgoing",
                ["start_time"] = call.StartedAt,
            };
            details(payload);
        }

        await sender.DeliverAsync(url, eventType, attempt =>
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
            {
                ["data"] = new Dictionary<string, object?>
                {
                    ["record_type"] = "event",
                    ["event_type"] = eventType,
                    ["id"] = id,
                    ["occurred_at"] = occurredAt,
                    ["payload"] = payload,
                },
                ["meta"] = new Dictionary<string, object?> { ["attempt"] = attempt, ["delivered_to"] = url },
            }, SimulatorContext.Json);
            var (signature, timestamp) = signer.Sign(body, time.GetUtcNow());
            var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new("application/json");
            request.Headers.TryAddWithoutValidation(TelnyxSignatureVerifier.SignatureHeader, signature);
            request.Headers.TryAddWithoutValidation(TelnyxSignatureVerifier.TimestampHeader, timestamp);
            request.Headers.TryAddWithoutValidation("User-Agent", "telnyx-webhooks");
            return request;
        }, options.DeliveryAttempts, options.RetryDelay, cancellationToken);
    }
}
