using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Providers;
using static VoiceKraliki.Telephony.Tests.Providers.CallControlHost;

namespace VoiceKraliki.Telephony.Tests.Providers;

public sealed class TwilioCallControlTests : IAsyncLifetime
{
    private const string CallSid = "CA11111111111111111111111111111111";
    private const string ConferenceSid = "CF22222222222222222222222222222222";
    private const string RecordingSid = "RE33333333333333333333333333333333";
    private const string Accounts = "/2010-04-01/Accounts/" + AccountSid;

    // The body Twilio documents for a call resource, trimmed to the fields we read and a few we don't.
    private const string QueuedCall = $$"""
        {"account_sid":"{{AccountSid}}","answered_by":null,"api_version":"2010-04-01","direction":"outbound-api",
         "duration":null,"from":"+14155550100","sid":"{{CallSid}}","status":"queued","to":"+14155550123",
         "uri":"/2010-04-01/Accounts/{{AccountSid}}/Calls/{{CallSid}}.json","queue_time":"0"}
        """;

    private static readonly string ExpectedAuthorization =
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AccountSid}:{AuthToken}"));

    private ProviderApiServer _server = null!;
    private ServiceProvider _services = null!;
    private ICallControl _twilio = null!;

    // Bounds every adapter call, so a hung request fails the test instead of stalling the run.
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));

    private CancellationToken Ct => _timeout.Token;

    public async Task InitializeAsync()
    {
        _server = await ProviderApiServer.StartAsync();
        _services = Build(_server.BaseUrl, "http://127.0.0.1:1");
        _twilio = Twilio(_services);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _server.DisposeAsync();
        _timeout.Dispose();
    }

    [Fact]
    public async Task Placing_a_call_posts_the_documented_form_with_basic_auth_and_every_status_event()
    {
        _server.Answer = new ScriptedAnswer(201, QueuedCall);

        var placed = await _twilio.PlaceCallAsync(
            new PlaceCallRequest("+14155550123", "+14155550100")
            {
                InstructionsUrl = new Uri("https://voice.example.com/twilio/voice?call=42"),
                StatusCallbackUrl = new Uri("https://voice.example.com/twilio/status"),
                MachineDetection = MachineDetection.DetectMessageEnd,
                RingTimeout = TimeSpan.FromSeconds(25),
                ClientState = "ignored by Twilio",
            },
            Ct);

        Assert.Equal(new PlacedCall(TelephonyProvider.Twilio, CallSid, "queued"), placed);
        var request = _server.Single();
        Assert.Equal("POST", request.Method);
        Assert.Equal($"{Accounts}/Calls.json", request.Path);
        Assert.Equal(ExpectedAuthorization, request.Authorization);
        Assert.Equal("application/x-www-form-urlencoded", request.ContentType);
        Assert.Equal(
            "To=%2B14155550123&From=%2B14155550100"
            + "&Url=https%3A%2F%2Fvoice.example.com%2Ftwilio%2Fvoice%3Fcall%3D42&Method=POST"
            + "&StatusCallback=https%3A%2F%2Fvoice.example.com%2Ftwilio%2Fstatus&StatusCallbackMethod=POST"
            + "&StatusCallbackEvent=initiated&StatusCallbackEvent=ringing&StatusCallbackEvent=answered&StatusCallbackEvent=completed"
            + "&MachineDetection=DetectMessageEnd&AsyncAmd=true&Timeout=25",
            request.Body);
    }

    [Fact]
    public async Task Placing_a_call_with_only_a_stream_url_runs_connect_stream_twiml()
    {
        _server.Answer = new ScriptedAnswer(201, QueuedCall);

        await _twilio.PlaceCallAsync(
            new PlaceCallRequest("+14155550123", "+14155550100") { StreamUrl = new Uri("wss://media.example.com/twilio") }, Ct);

        var form = Form(_server.Single().Body);
        Assert.Equal(
            """<?xml version="1.0" encoding="UTF-8"?><Response><Connect><Stream url="wss://media.example.com/twilio" /></Connect></Response>""",
            Assert.Single(form["Twiml"]));
        Assert.False(form.ContainsKey("Url"));
        Assert.False(form.ContainsKey("StatusCallback"));
        Assert.False(form.ContainsKey("MachineDetection"));
    }

    [Fact]
    public async Task Placing_a_call_needs_exactly_one_of_instructions_or_stream_and_sends_nothing_otherwise()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _twilio.PlaceCallAsync(new PlaceCallRequest("+14155550123", "+14155550100"), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => _twilio.PlaceCallAsync(
            new PlaceCallRequest("+14155550123", "+14155550100")
            {
                InstructionsUrl = new Uri("https://voice.example.com/a"),
                StreamUrl = new Uri("wss://media.example.com/b"),
            },
            Ct));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task Fetching_a_call_maps_its_status_and_machine_answer_through_call_status_mapping()
    {
        _server.Answer = new ScriptedAnswer(200, $$"""
            {"sid":"{{CallSid}}","status":"completed","answered_by":"machine_start","duration":"42","direction":"outbound-api"}
            """);

        var call = await _twilio.FetchCallAsync(CallSid, Ct);

        Assert.Equal(
            new CallSnapshot(TelephonyProvider.Twilio, CallSid, CallStatus.Completed, CallEndReason.MachineDetected, "completed", TimeSpan.FromSeconds(42)),
            call);
        var request = _server.Single();
        Assert.Equal(("GET", $"{Accounts}/Calls/{CallSid}.json", ""), (request.Method, request.Path, request.Body));
        Assert.Equal(ExpectedAuthorization, request.Authorization);
    }

    [Fact]
    public async Task A_ringing_call_has_no_duration_yet()
    {
        _server.Answer = new ScriptedAnswer(200, $$"""{"sid":"{{CallSid}}","status":"ringing","duration":null}""");

        var call = await _twilio.FetchCallAsync(CallSid, Ct);

        Assert.Equal((CallStatus.Ringing, CallEndReason.None, (TimeSpan?)null), (call.Status, call.EndReason, call.Duration));
    }

    [Fact]
    public async Task Call_updates_post_twilios_parameters_to_the_call()
    {
        _server.Answer = new ScriptedAnswer(200, QueuedCall);

        await _twilio.HangUpAsync(CallSid, Ct);
        await _twilio.RedirectAsync(CallSid, new Uri("https://voice.example.com/next"), Ct);
        await _twilio.TransferAsync(CallSid, "+442071838750", "+14155550100", Ct);
        await _twilio.JoinConferenceAsync("support-room-7", CallSid, Ct);

        var requests = _server.Requests;
        Assert.All(requests, r => Assert.Equal(("POST", $"{Accounts}/Calls/{CallSid}.json"), (r.Method, r.Path)));
        Assert.Equal("Status=completed", requests[0].Body);
        Assert.Equal("Url=https%3A%2F%2Fvoice.example.com%2Fnext&Method=POST", requests[1].Body);
        Assert.Equal(
            """<?xml version="1.0" encoding="UTF-8"?><Response><Dial callerId="+14155550100"><Number>+442071838750</Number></Dial></Response>""",
            Assert.Single(Form(requests[2].Body)["Twiml"]));
        Assert.Equal(
            """<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Conference>support-room-7</Conference></Dial></Response>""",
            Assert.Single(Form(requests[3].Body)["Twiml"]));
    }

    [Fact]
    public async Task Hold_resume_and_mute_update_the_conference_participant()
    {
        _server.Answer = new ScriptedAnswer(200, $$"""{"call_sid":"{{CallSid}}","conference_sid":"{{ConferenceSid}}","hold":true,"muted":false}""");

        await _twilio.HoldAsync(ConferenceSid, CallSid, Ct);
        await _twilio.ResumeAsync(ConferenceSid, CallSid, Ct);
        await _twilio.SetMutedAsync(ConferenceSid, CallSid, muted: true, Ct);
        await _twilio.SetMutedAsync(ConferenceSid, CallSid, muted: false, Ct);

        var participant = $"{Accounts}/Conferences/{ConferenceSid}/Participants/{CallSid}.json";
        Assert.Equal(
            [("POST", participant, "Hold=true"), ("POST", participant, "Hold=false"), ("POST", participant, "Muted=true"), ("POST", participant, "Muted=false")],
            _server.Requests.Select(r => (r.Method, r.Path, r.Body)));
    }

    [Fact]
    public async Task Leaving_a_conference_deletes_the_participant()
    {
        _server.Answer = new ScriptedAnswer(204);

        await _twilio.LeaveConferenceAsync(ConferenceSid, CallSid, Ct);

        var request = _server.Single();
        Assert.Equal(("DELETE", $"{Accounts}/Conferences/{ConferenceSid}/Participants/{CallSid}.json"), (request.Method, request.Path));
    }

    [Fact]
    public async Task Recording_is_started_then_stopped_paused_and_resumed_through_the_recording_resource()
    {
        _server.Answer = new ScriptedAnswer(201, $$"""
            {"account_sid":"{{AccountSid}}","call_sid":"{{CallSid}}","sid":"{{RecordingSid}}","status":"in-progress","channels":2,"source":"StartCallRecordingAPI"}
            """);

        var recordingId = await _twilio.StartRecordingAsync(
            CallSid, new RecordingRequest { DualChannel = true, StatusCallbackUrl = new Uri("https://voice.example.com/rec") }, Ct);
        await _twilio.PauseRecordingAsync(CallSid, recordingId, Ct);
        await _twilio.ResumeRecordingAsync(CallSid, recordingId, Ct);
        await _twilio.StopRecordingAsync(CallSid, null, Ct);

        Assert.Equal(RecordingSid, recordingId);
        var recordings = $"{Accounts}/Calls/{CallSid}/Recordings";
        Assert.Equal(
            [
                ("POST", $"{recordings}.json", "RecordingChannels=dual&RecordingStatusCallback=https%3A%2F%2Fvoice.example.com%2Frec&RecordingStatusCallbackMethod=POST"),
                ("POST", $"{recordings}/{RecordingSid}.json", "Status=paused"),
                ("POST", $"{recordings}/{RecordingSid}.json", "Status=in-progress"),
                ("POST", $"{recordings}/Twilio.CURRENT.json", "Status=stopped"),
            ],
            _server.Requests.Select(r => (r.Method, r.Path, r.Body)));
    }

    [Fact]
    public async Task Deleting_a_recording_sends_delete_and_accepts_204()
    {
        _server.Answer = new ScriptedAnswer(204);

        await _twilio.DeleteRecordingAsync(RecordingSid, Ct);

        var request = _server.Single();
        Assert.Equal(("DELETE", $"{Accounts}/Recordings/{RecordingSid}.json", ExpectedAuthorization), (request.Method, request.Path, request.Authorization));
    }

    [Fact]
    public async Task Deleting_a_recording_that_is_already_gone_succeeds()
    {
        _server.Answer = new ScriptedAnswer(404, TwilioNotFound);

        await _twilio.DeleteRecordingAsync(RecordingSid, Ct);

        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task Dtmf_replaces_the_twiml_with_play_digits_and_then_redirects_when_asked()
    {
        _server.Answer = new ScriptedAnswer(200, QueuedCall);

        await _twilio.SendDtmfAsync(CallSid, "1234#w*", new Uri("https://voice.example.com/resume?a=1&b=2"), Ct);
        await _twilio.SendDtmfAsync(CallSid, "9", null, Ct);

        var requests = _server.Requests;
        Assert.Equal(
            """<?xml version="1.0" encoding="UTF-8"?><Response><Play digits="1234#w*"/><Redirect method="POST">https://voice.example.com/resume?a=1&amp;b=2</Redirect></Response>""",
            Assert.Single(Form(requests[0].Body)["Twiml"]));
        Assert.Equal(
            """<?xml version="1.0" encoding="UTF-8"?><Response><Play digits="9"/></Response>""",
            Assert.Single(Form(requests[1].Body)["Twiml"]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12a")]
    [InlineData("1\"/><Hangup/>")]
    public async Task Dtmf_digits_outside_the_dtmf_alphabet_are_rejected_before_any_request(string digits)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _twilio.SendDtmfAsync(CallSid, digits, null, Ct));
        Assert.Empty(_server.Requests);
    }

    private const string TwilioNotFound = """
        {"code": 20404, "message": "The requested resource /2010-04-01/Accounts/AC00000000000000000000000000000001/Calls/CA11111111111111111111111111111111.json was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404}
        """;

    [Fact]
    public async Task A_404_with_twilios_error_body_is_not_retryable_and_carries_code_20404()
    {
        _server.Answer = new ScriptedAnswer(404, TwilioNotFound);

        var ex = await Assert.ThrowsAsync<ProviderException>(() => _twilio.FetchCallAsync(CallSid, Ct));

        Assert.Equal(TelephonyProvider.Twilio, ex.Provider);
        Assert.Equal("FetchCall", ex.Operation);
        Assert.Equal(HttpStatusCode.NotFound, ex.StatusCode);
        Assert.Equal("20404", ex.ErrorCode);
        Assert.StartsWith("The requested resource /2010-04-01/Accounts/", ex.Message);
        Assert.False(ex.IsRetryable);
        Assert.Null(ex.RetryAfter);
    }

    [Fact]
    public async Task A_429_with_retry_after_is_retryable_after_the_given_delay()
    {
        _server.Answer = new ScriptedAnswer(
            429,
            """{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}""",
            new Dictionary<string, string> { ["Retry-After"] = "7" });

        var ex = await Assert.ThrowsAsync<ProviderException>(() => _twilio.HangUpAsync(CallSid, Ct));

        Assert.Equal((HttpStatusCode.TooManyRequests, "20429", "Too Many Requests", true, (TimeSpan?)TimeSpan.FromSeconds(7)),
            (ex.StatusCode, ex.ErrorCode, ex.Message, ex.IsRetryable, ex.RetryAfter));
    }

    [Fact]
    public async Task A_503_without_a_body_is_retryable_and_names_the_status()
    {
        _server.Answer = new ScriptedAnswer(503);

        var ex = await Assert.ThrowsAsync<ProviderException>(() => _twilio.PlaceCallAsync(
            new PlaceCallRequest("+14155550123", "+14155550100") { InstructionsUrl = new Uri("https://voice.example.com/v") }, Ct));

        Assert.Equal((HttpStatusCode.ServiceUnavailable, (string?)null, true), (ex.StatusCode, ex.ErrorCode, ex.IsRetryable));
        Assert.Contains("503", ex.Message);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task A_refused_connection_is_retryable_with_no_status()
    {
        await using var services = Build(RefusingBaseUrl(), RefusingBaseUrl());

        var ex = await Assert.ThrowsAsync<ProviderException>(() => Twilio(services).HangUpAsync(CallSid, Ct));

        Assert.True(ex.IsRetryable);
        Assert.Null(ex.StatusCode);
        Assert.IsType<HttpRequestException>(ex.InnerException);
        Assert.DoesNotContain(AuthToken, ex.ToString());
    }

    [Fact]
    public async Task Without_credentials_nothing_is_sent()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddOptions<TelephonyOptions>().Configure(o => o.Twilio.ApiBaseUrl = _server.BaseUrl);
        await using var provider = services.AddCallControl().BuildServiceProvider();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => Twilio(provider).HangUpAsync(CallSid, Ct));

        Assert.Contains("Telephony:Twilio:AuthToken", ex.Message);
        Assert.Empty(_server.Requests);
    }

    private static Dictionary<string, string[]> Form(string body) =>
        body.Split('&')
            .Select(pair => pair.Split('=', 2))
            .GroupBy(kv => Uri.UnescapeDataString(kv[0].Replace('+', ' ')), kv => Uri.UnescapeDataString(kv[1].Replace('+', ' ')))
            .ToDictionary(g => g.Key, g => g.ToArray());
}
