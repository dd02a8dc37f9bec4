using System.Net.WebSockets;
using System.Text;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Tests.Support;
using VoiceKraliki.Telephony.Media;
using static VoiceKraliki.MediaBridge.Tests.Support.MediaMessages;

namespace VoiceKraliki.MediaBridge.Tests.Apis;

/// <summary>Only the streams webhook-ingress asked for get in: the stream token, checked at start.</summary>
public class StreamTokenTests(MediaBridgeFixture fixture) : IClassFixture<MediaBridgeFixture>
{
    private sealed class PastClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => DateTimeOffset.UtcNow.AddHours(-1);
    }

    private async Task<(WebSocketCloseStatus? Status, string? Description)> TwilioStartWithAsync(string callSid, string? token)
    {
        await using var client = await StreamClient.ConnectAsync(fixture.Factory, TelephonyProvider.Twilio);
        await client.SendAsync(Connected(TelephonyProvider.Twilio));
        await client.SendAsync(TwilioStart(callSid, "MZ" + Guid.NewGuid().ToString("N"), token));
        return await client.ClosedAsync();
    }

    [Fact]
    public async Task A_start_without_a_token_is_closed_with_1008()
    {
        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "missing stream token"), await TwilioStartWithAsync(NewCallSid(), null));
    }

    [Fact]
    public async Task A_token_signed_with_another_key_is_closed_with_1008()
    {
        var callSid = NewCallSid();
        var forged = new StreamTokenService(Encoding.UTF8.GetBytes("someone else's key of at least 32 bytes"), TimeProvider.System)
            .Issue(TelephonyProvider.Twilio, callSid, null, TimeSpan.FromMinutes(5));

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "invalid stream token"), await TwilioStartWithAsync(callSid, forged));
    }

    [Fact]
    public async Task A_genuine_token_with_one_character_changed_is_closed_with_1008()
    {
        var callSid = NewCallSid();
        var token = MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, callSid);
        var tampered = token[..^1] + (token[^1] == 'A' ? 'B' : 'A');

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "invalid stream token"), await TwilioStartWithAsync(callSid, tampered));
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("a.b.c")]
    [InlineData("....")]
    public async Task Garbage_in_the_token_parameter_is_closed_with_1008(string token)
    {
        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "invalid stream token"), await TwilioStartWithAsync(NewCallSid(), token));
    }

    [Fact]
    public async Task An_expired_token_is_closed_with_1008()
    {
        var callSid = NewCallSid();
        var expired = new StreamTokenService(MediaBridgeFactory.TokenKey, new PastClock())
            .Issue(TelephonyProvider.Twilio, callSid, null, TimeSpan.FromMinutes(5));

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "expired stream token"), await TwilioStartWithAsync(callSid, expired));
    }

    [Fact]
    public async Task A_token_for_another_call_is_closed_with_1008()
    {
        var token = MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, NewCallSid());

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "stream token is not for this call"), await TwilioStartWithAsync(NewCallSid(), token));
    }

    [Fact]
    public async Task A_twilio_token_on_a_telnyx_stream_is_closed_with_1008()
    {
        var callId = NewCallControlId();
        await using var client = await StreamClient.ConnectAsync(fixture.Factory, TelephonyProvider.Telnyx);
        await client.SendAsync(TelnyxStart(callId, "s1", token: MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, callId)));

        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "stream token is not for this call"), await client.ClosedAsync());
    }

    [Fact]
    public async Task A_telnyx_stream_may_carry_its_token_in_the_query_string()
    {
        var callId = NewCallControlId();
        var token = MediaBridgeFactory.TokenFor(TelephonyProvider.Telnyx, callId);
        await using var client = await StreamClient.ConnectAsync(fixture.Factory, TelephonyProvider.Telnyx, "token=" + Uri.EscapeDataString(token));
        await client.SendAsync(TelnyxStart(callId, "s1"));
        await client.SendAsync(TelnyxMedia("s1", 2, 1, 0, new byte[160]));
        await client.SendAsync(TelnyxStop(callId, "s1"));

        Assert.Equal((WebSocketCloseStatus.NormalClosure, "stream stopped"), await client.ClosedAsync());
    }

    [Fact]
    public async Task A_telnyx_stream_may_carry_its_token_as_client_state()
    {
        var callId = NewCallControlId();
        var state = Convert.ToBase64String(Encoding.UTF8.GetBytes(MediaBridgeFactory.TokenFor(TelephonyProvider.Telnyx, callId)));
        await using var client = await StreamClient.ConnectAsync(fixture.Factory, TelephonyProvider.Telnyx);
        await client.SendAsync(TelnyxStart(callId, "s1", clientState: state));
        await client.SendAsync(TelnyxStop(callId, "s1"));

        Assert.Equal((WebSocketCloseStatus.NormalClosure, "stream stopped"), await client.ClosedAsync());
    }

    [Fact]
    public async Task Refused_streams_are_counted_by_outcome_and_get_no_sink()
    {
        var outcomes = new List<string?>();
        using var listener = MediaStreamApiTests.Listen(fixture, (name, tags) =>
        {
            if (name == "telephony_media_streams_closed")
            {
                lock (outcomes) outcomes.Add(MediaStreamApiTests.Tag(tags, "outcome"));
            }
        });
        var callSid = NewCallSid();
        fixture.Sinks.Configure(callSid, new SinkBehaviour());

        await TwilioStartWithAsync(callSid, null);
        await TwilioStartWithAsync(callSid, MediaBridgeFactory.TokenFor(TelephonyProvider.Twilio, NewCallSid()));

        await Task.Delay(200);
        lock (outcomes)
        {
            Assert.Contains("token_missing", outcomes);
            Assert.Contains("token_mismatch", outcomes);
        }

        await Assert.ThrowsAsync<TimeoutException>(() => fixture.Sinks.WaitForAsync(callSid, within: TimeSpan.FromMilliseconds(200)));
    }
}
