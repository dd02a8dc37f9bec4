using System.Text.Json;
using VoiceKraliki.Simulator.Tests.Support;
using VoiceKraliki.Telephony.Signatures;

namespace VoiceKraliki.Simulator.Tests.Calls;

/// <summary>Our side ends calls mid-scenario; these run on the real clock with a ten-minute talk time.</summary>
public sealed class HangupTests : IAsyncLifetime
{
    private ProviderSimulator _simulator = null!;
    private WebhookReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _simulator = new ProviderSimulator(new SimulatorOptions
        {
            DefaultScenario = "answer ring=0 talk=600",
            Telnyx = { WebhookUrl = _receiver.BaseUrl + "/webhooks/telnyx" },
            Scenarios = { ["+15550000009"] = "answer ring=600" },
        });
        await _simulator.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _simulator.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Telnyx_hangup_command_ends_an_answered_call_from_the_caller_side()
    {
        using var client = Http.TelnyxClient(_simulator);
        using var dial = await client.PostAsync("/v2/calls", Http.Json("""{"connection_id":"c","to":"+15550000001","from":"+15550000002"}"""));
        var id = (await dial.JsonAsync()).GetProperty("data").GetProperty("call_control_id").GetString()!;
        await _receiver.TakeAsync(2);

        using var hangup = await client.PostAsync($"/v2/calls/{Uri.EscapeDataString(id)}/actions/hangup", Http.Json("{}"));

        var hook = (await _receiver.TakeAsync(1))[0];
        var data = JsonDocument.Parse(hook.Body).RootElement.GetProperty("data");
        Assert.Equal("call.hangup", data.GetProperty("event_type").GetString());
        Assert.Equal("normal_clearing", data.GetProperty("payload").GetProperty("hangup_cause").GetString());
        Assert.Equal("caller", data.GetProperty("payload").GetProperty("hangup_source").GetString());
        var verifier = new TelnyxSignatureVerifier(_simulator.TelnyxPublicKeyBase64, TimeProvider.System);
        Assert.Equal(TelnyxVerificationResult.Valid, verifier.Verify(hook.Body, hook.Header("telnyx-signature-ed25519"), hook.Header("telnyx-timestamp")));
    }

    [Fact]
    public async Task Twilio_cancel_while_ringing_ends_the_call_as_canceled()
    {
        using var client = Http.TwilioClient(_simulator);
        using var created = await client.PostAsync(Http.CallsPath(_simulator), Http.Form(
            ("To", "+15550000009"), ("From", "+15550000002"), ("Url", "https://example.com/twiml"),
            ("StatusCallback", _receiver.BaseUrl + "/webhooks/twilio/status"), ("StatusCallbackEvent", "ringing completed")));
        var sid = (await created.JsonAsync()).GetProperty("sid").GetString()!;
        await _receiver.TakeAsync(1);

        using var canceled = await client.PostAsync(Http.CallsPath(_simulator, sid), Http.Form(("Status", "canceled")));

        Assert.Equal("canceled", (await canceled.JsonAsync()).GetProperty("status").GetString());
        var hook = (await _receiver.TakeAsync(1))[0];
        Assert.True(FormBody.TryParse(hook.Body, out var fields));
        Assert.Contains(new KeyValuePair<string, string>("CallStatus", "canceled"), fields);
        Assert.True(new TwilioRequestValidator(_simulator.Options.Twilio.AuthToken).Validate(hook.Url, fields, hook.Header(TwilioSignature.HeaderName)));
    }
}
