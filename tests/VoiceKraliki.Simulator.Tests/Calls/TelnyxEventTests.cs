using System.Text.Json;
using VoiceKraliki.Simulator.Tests.Support;
using VoiceKraliki.Telephony.Signatures;

namespace VoiceKraliki.Simulator.Tests.Calls;

public sealed class TelnyxEventTests : IAsyncLifetime
{
    private readonly SteppingTimeProvider _clock = new();
    private ProviderSimulator _simulator = null!;
    private WebhookReceiver _receiver = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _simulator = new ProviderSimulator(
            new SimulatorOptions
            {
                Telnyx = { WebhookUrl = _receiver.BaseUrl + "/webhooks/telnyx", SigningKeySeed = Convert.ToBase64String(new byte[32]) },
                Scenarios =
                {
                    ["+15550000001"] = "answer ring=1 talk=3",
                    ["+15550000002"] = "busy",
                    ["+15550000003"] = "no-answer ring=30",
                    ["+15550000004"] = "machine ring=1 talk=5",
                },
            },
            _clock);
        await _simulator.StartAsync();
        _client = Http.TelnyxClient(_simulator);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _simulator.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Answered_call_sends_signed_events_in_order()
    {
        var id = await DialAsync("+15550000001");

        var hooks = await _receiver.TakeAsync(3);

        var verifier = new TelnyxSignatureVerifier(_simulator.TelnyxPublicKeyBase64, _clock);
        Assert.All(hooks, h => Assert.Equal(
            TelnyxVerificationResult.Valid,
            verifier.Verify(h.Body, h.Header(TelnyxSignatureVerifier.SignatureHeader), h.Header(TelnyxSignatureVerifier.TimestampHeader))));
        var events = hooks.Select(Data).ToList();
        Assert.Equal(["call.initiated", "call.answered", "call.hangup"], events.Select(e => e.GetProperty("event_type").GetString()));
        Assert.All(events, e => Assert.Equal("event", e.GetProperty("record_type").GetString()));
        Assert.All(events, e => Assert.Equal(id, e.GetProperty("payload").GetProperty("call_control_id").GetString()));
        Assert.All(events, e => Assert.Equal("c3RhdGU=", e.GetProperty("payload").GetProperty("client_state").GetString()));
        Assert.Equal(3, events.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        var hangup = events[2].GetProperty("payload");
        Assert.Equal("normal_clearing", hangup.GetProperty("hangup_cause").GetString());
        Assert.Equal("callee", hangup.GetProperty("hangup_source").GetString());
        Assert.Equal(TimeSpan.FromSeconds(3), hangup.GetProperty("end_time").GetDateTimeOffset() - hangup.GetProperty("start_time").GetDateTimeOffset());
    }

    [Fact]
    public async Task Signature_from_another_key_does_not_verify()
    {
        await DialAsync("+15550000002");

        var hook = (await _receiver.TakeAsync(1))[0];

        var other = new TelnyxSignatureVerifier(TelnyxWebhookSigner.Generate().PublicKeyBase64, _clock);
        Assert.Equal(
            TelnyxVerificationResult.InvalidSignature,
            other.Verify(hook.Body, hook.Header(TelnyxSignatureVerifier.SignatureHeader), hook.Header(TelnyxSignatureVerifier.TimestampHeader)));
    }

    [Theory]
    [InlineData("+15550000002", "user_busy")]
    [InlineData("+15550000003", "timeout")]
    public async Task Unanswered_call_hangs_up_with_the_scenarios_cause(string to, string cause)
    {
        await DialAsync(to);

        var events = (await _receiver.TakeAsync(2)).Select(Data).ToList();

        Assert.Equal(["call.initiated", "call.hangup"], events.Select(e => e.GetProperty("event_type").GetString()));
        Assert.Equal(cause, events[1].GetProperty("payload").GetProperty("hangup_cause").GetString());
    }

    [Fact]
    public async Task Machine_detection_reports_a_machine_after_the_answer()
    {
        await DialAsync("+15550000004", amd: "detect");

        var events = (await _receiver.TakeAsync(4)).Select(Data).ToList();

        Assert.Equal(
            ["call.initiated", "call.answered", "call.machine.detection.ended", "call.hangup"],
            events.Select(e => e.GetProperty("event_type").GetString()));
        Assert.Equal("machine", events[2].GetProperty("payload").GetProperty("result").GetString());
    }

    [Fact]
    public async Task Failed_delivery_is_retried_with_the_same_event_id_and_a_fresh_signature()
    {
        _receiver.RespondWith(500, 429);
        await DialAsync("+15550000002");

        var hooks = await _receiver.TakeAsync(3);

        var verifier = new TelnyxSignatureVerifier(_simulator.TelnyxPublicKeyBase64, _clock);
        var envelopes = hooks.Select(h => JsonDocument.Parse(h.Body).RootElement).ToList();
        Assert.Equal([1, 2, 3], envelopes.Select(e => e.GetProperty("meta").GetProperty("attempt").GetInt32()));
        Assert.Single(envelopes.Select(e => e.GetProperty("data").GetProperty("id").GetString()).Distinct());
        Assert.All(hooks, h => Assert.Equal(
            TelnyxVerificationResult.Valid,
            verifier.Verify(h.Body, h.Header(TelnyxSignatureVerifier.SignatureHeader), h.Header(TelnyxSignatureVerifier.TimestampHeader))));
        Assert.Equal("call.hangup", Data((await _receiver.TakeAsync(1))[0]).GetProperty("event_type").GetString());
    }

    [Fact]
    public async Task Webhook_url_in_the_dial_request_wins()
    {
        await DialAsync("+15550000002", webhookUrl: _receiver.BaseUrl + "/per-call");

        var hooks = await _receiver.TakeAsync(2);

        Assert.All(hooks, h => Assert.EndsWith("/per-call", h.Url));
    }

    private async Task<string> DialAsync(string to, string? amd = null, string? webhookUrl = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["connection_id"] = "conn-1",
            ["to"] = to,
            ["from"] = "+15557654321",
            ["client_state"] = "c3RhdGU=",
        };
        if (amd is not null)
        {
            body["answering_machine_detection"] = amd;
        }

        if (webhookUrl is not null)
        {
            body["webhook_url"] = webhookUrl;
        }

        using var response = await _client.PostAsync("/v2/calls", Http.Json(JsonSerializer.Serialize(body)));
        response.EnsureSuccessStatusCode();
        return (await response.JsonAsync()).GetProperty("data").GetProperty("call_control_id").GetString()!;
    }

    private static JsonElement Data(ReceivedWebhook hook) => JsonDocument.Parse(hook.Body).RootElement.GetProperty("data");
}
