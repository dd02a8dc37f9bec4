using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Providers;
using static VoiceKraliki.Telephony.Tests.Providers.CallControlHost;

namespace VoiceKraliki.Telephony.Tests.Providers;

public sealed class TelnyxCallControlTests : IAsyncLifetime
{
    private const string CallControlId = "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg";
    private const string ConferenceId = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    private const string RecordingId = "428c31b6-7af4-4bcb-b7f5-5013ef9657c1";
    private const string Ok = """{"data":{"result":"ok"}}""";

    // The body Telnyx documents for POST /v2/calls.
    private const string Dialed = $$$"""
        {"data":{"call_control_id":"{{{CallControlId}}}","call_leg_id":"2dc6fc34-f9e0-11ea-b68e-02420a0f7768",
         "call_session_id":"2dc1b3c8-f9e0-11ea-bc5a-02420a0f7768","is_alive":false,"record_type":"call"}}
        """;

    private const string CallEnded = """
        {"errors":[{"code":"90018","title":"Call has already ended","detail":"This call is no longer active and can't receive commands.","meta":{"url":"https://developers.telnyx.com/docs/overview/errors/90018"}}]}
        """;

    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    private ProviderApiServer _server = null!;
    private ServiceProvider _services = null!;
    private ICallControl _telnyx = null!;

    private CancellationToken Ct => _timeout.Token;

    public async Task InitializeAsync()
    {
        _server = await ProviderApiServer.StartAsync();
        _services = Build("http://127.0.0.1:1", _server.BaseUrl);
        _telnyx = Telnyx(_services);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _server.DisposeAsync();
        _timeout.Dispose();
    }

    [Fact]
    public async Task Placing_a_call_posts_the_documented_json_with_the_bearer_key_and_base64_client_state()
    {
        _server.Answer = new ScriptedAnswer(200, Dialed);

        var placed = await _telnyx.PlaceCallAsync(
            new PlaceCallRequest("+14155550123", "+14155550100")
            {
                StatusCallbackUrl = new Uri("https://voice.example.com/telnyx/events"),
                MachineDetection = MachineDetection.Detect,
                StreamUrl = new Uri("wss://media.example.com/telnyx"),
                ClientState = "campaign=7;lead=č42",
                RingTimeout = TimeSpan.FromSeconds(30),
            },
            Ct);

        Assert.Equal(new PlacedCall(TelephonyProvider.Telnyx, CallControlId, null), placed);
        var request = _server.Single();
        Assert.Equal(("POST", "/v2/calls", $"Bearer {ApiKey}"), (request.Method, request.Path, request.Authorization));
        Assert.Equal("application/json; charset=utf-8", request.ContentType);
        var body = JsonNode.Parse(request.Body)!.AsObject();
        Assert.True(Guid.TryParse((string?)body["command_id"], out _));
        body.Remove("command_id");
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse($$"""
                {"connection_id":"{{ConnectionId}}","to":"+14155550123","from":"+14155550100",
                 "webhook_url":"https://voice.example.com/telnyx/events","answering_machine_detection":"detect",
                 "stream_url":"wss://media.example.com/telnyx","stream_track":"inbound_track",
                 "client_state":"Y2FtcGFpZ249NztsZWFkPcSNNDI=","timeout_secs":30}
                """),
            body),
            body.ToJsonString());
    }

    [Fact]
    public async Task A_minimal_call_keeps_the_connections_webhook_and_sends_no_optional_fields()
    {
        _server.Answer = new ScriptedAnswer(200, Dialed);

        await _telnyx.PlaceCallAsync(
            new PlaceCallRequest("+14155550123", "+14155550100") { MachineDetection = MachineDetection.DetectMessageEnd }, Ct);

        var body = JsonNode.Parse(_server.Single().Body)!.AsObject();
        Assert.Equal(
            ["connection_id", "to", "from", "answering_machine_detection", "command_id"],
            body.Select(p => p.Key));
        Assert.Equal("greeting_end", (string?)body["answering_machine_detection"]);
    }

    [Fact]
    public async Task Placing_a_call_without_a_connection_id_fails_before_any_request()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddOptions<TelephonyOptions>().Configure(o =>
        {
            o.Telnyx.ApiKey = ApiKey;
            o.Telnyx.ApiBaseUrl = _server.BaseUrl;
        });
        await using var provider = services.AddCallControl().BuildServiceProvider();

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            Telnyx(provider).PlaceCallAsync(new PlaceCallRequest("+14155550123", "+14155550100"), Ct));

        Assert.Contains("Telephony:Telnyx:ConnectionId", ex.Message);
        Assert.Empty(_server.Requests);
    }

    [Theory]
    [InlineData("true", null, CallEndReason.None, "alive")]
    [InlineData("false", CallStatus.Completed, CallEndReason.Unknown, "ended")]
    public async Task Fetching_a_call_reports_whether_it_is_alive(string isAlive, CallStatus? status, CallEndReason reason, string providerStatus)
    {
        _server.Answer = new ScriptedAnswer(200, $$$"""
            {"data":{"call_control_id":"{{{CallControlId}}}","call_duration":50,"is_alive":{{{isAlive}}},"record_type":"call"}}
            """);

        var call = await _telnyx.FetchCallAsync(CallControlId, Ct);

        Assert.Equal(new CallSnapshot(TelephonyProvider.Telnyx, CallControlId, status, reason, providerStatus, TimeSpan.FromSeconds(50)), call);
        var request = _server.Single();
        Assert.Equal(("GET", $"/v2/calls/{Uri.EscapeDataString(CallControlId)}", ""), (request.Method, request.Path, request.Body));
    }

    [Fact]
    public async Task Call_commands_post_to_their_action_with_a_fresh_command_id_each()
    {
        _server.Answer = new ScriptedAnswer(200, Ok);

        await _telnyx.HangUpAsync(CallControlId, Ct);
        await _telnyx.TransferAsync(CallControlId, "+442071838750", "+14155550100", Ct);
        await _telnyx.TransferAsync(CallControlId, "sip:agent@pbx.example.com", null, Ct);
        await _telnyx.SendDtmfAsync(CallControlId, "1234#", new Uri("https://ignored.example.com"), Ct);
        var recordingId = await _telnyx.StartRecordingAsync(CallControlId, new RecordingRequest { DualChannel = true }, Ct);
        await _telnyx.PauseRecordingAsync(CallControlId, null, Ct);
        await _telnyx.ResumeRecordingAsync(CallControlId, null, Ct);
        await _telnyx.StopRecordingAsync(CallControlId, "ignored", Ct);

        Assert.Null(recordingId);
        var requests = _server.Requests;
        var actions = $"/v2/calls/{Uri.EscapeDataString(CallControlId)}/actions/";
        Assert.All(requests, r => Assert.Equal(("POST", $"Bearer {ApiKey}"), (r.Method, r.Authorization)));
        Assert.Equal(
            [
                (actions + "hangup", "{}"),
                (actions + "transfer", """{"to":"+442071838750","from":"+14155550100"}"""),
                (actions + "transfer", """{"to":"sip:agent@pbx.example.com"}"""),
                (actions + "send_dtmf", """{"digits":"1234#"}"""),
                (actions + "record_start", """{"format":"mp3","channels":"dual"}"""),
                (actions + "record_pause", "{}"),
                (actions + "record_resume", "{}"),
                (actions + "record_stop", "{}"),
            ],
            requests.Select(r => (r.Path, WithoutCommandId(r.Body))));
        var commandIds = requests.Select(r => (string?)JsonNode.Parse(r.Body)!["command_id"]).ToList();
        Assert.All(commandIds, id => Assert.True(Guid.TryParse(id, out _)));
        Assert.Equal(commandIds.Count, commandIds.Distinct().Count());
    }

    [Fact]
    public async Task Conference_commands_name_the_participant_the_way_each_action_expects()
    {
        _server.Answer = new ScriptedAnswer(200, Ok);

        await _telnyx.JoinConferenceAsync(ConferenceId, CallControlId, Ct);
        await _telnyx.HoldAsync(ConferenceId, CallControlId, Ct);
        await _telnyx.ResumeAsync(ConferenceId, CallControlId, Ct);
        await _telnyx.SetMutedAsync(ConferenceId, CallControlId, muted: true, Ct);
        await _telnyx.SetMutedAsync(ConferenceId, CallControlId, muted: false, Ct);
        await _telnyx.LeaveConferenceAsync(ConferenceId, CallControlId, Ct);

        var actions = $"/v2/conferences/{ConferenceId}/actions/";
        var one = $$"""{"call_control_id":"{{CallControlId}}"}""";
        var many = $$"""{"call_control_ids":["{{CallControlId}}"]}""";
        Assert.Equal(
            [
                (actions + "join", one),
                (actions + "hold", many),
                (actions + "unhold", many),
                (actions + "mute", many),
                (actions + "unmute", many),
                (actions + "leave", one),
            ],
            _server.Requests.Select(r => (r.Path, WithoutCommandId(r.Body))));
    }

    [Fact]
    public async Task Deleting_a_recording_sends_delete_to_the_recording()
    {
        _server.Answer = new ScriptedAnswer(200, $$$"""{"data":{"id":"{{{RecordingId}}}","record_type":"recording","status":"deleted"}}""");

        await _telnyx.DeleteRecordingAsync(RecordingId, Ct);

        var request = _server.Single();
        Assert.Equal(("DELETE", $"/v2/recordings/{RecordingId}", $"Bearer {ApiKey}"), (request.Method, request.Path, request.Authorization));
    }

    [Fact]
    public async Task Redirect_is_not_a_telnyx_concept()
    {
        await Assert.ThrowsAsync<NotSupportedException>(() => _telnyx.RedirectAsync(CallControlId, new Uri("https://voice.example.com/x"), Ct));
        Assert.Empty(_server.Requests);
    }

    [Fact]
    public async Task A_422_with_telnyx_errors_is_not_retryable_and_carries_the_first_errors_code_and_detail()
    {
        _server.Answer = new ScriptedAnswer(422, CallEnded);

        var ex = await Assert.ThrowsAsync<ProviderException>(() => _telnyx.HangUpAsync(CallControlId, Ct));

        Assert.Equal(
            (TelephonyProvider.Telnyx, "HangUp", (HttpStatusCode?)HttpStatusCode.UnprocessableEntity, "90018", "This call is no longer active and can't receive commands.", false),
            (ex.Provider, ex.Operation, ex.StatusCode, ex.ErrorCode, ex.Message, ex.IsRetryable));
    }

    [Fact]
    public async Task A_429_with_retry_after_is_retryable_after_the_given_delay()
    {
        _server.Answer = new ScriptedAnswer(
            429,
            """{"errors":[{"code":"10011","title":"Too many requests","detail":"You have exceeded the rate limit."}]}""",
            new Dictionary<string, string> { ["Retry-After"] = "2" });

        var ex = await Assert.ThrowsAsync<ProviderException>(() => _telnyx.SendDtmfAsync(CallControlId, "1", null, Ct));

        Assert.Equal(("10011", true, (TimeSpan?)TimeSpan.FromSeconds(2)), (ex.ErrorCode, ex.IsRetryable, ex.RetryAfter));
    }

    [Fact]
    public async Task A_retry_after_date_becomes_the_time_left_until_then()
    {
        var until = DateTimeOffset.UtcNow.AddMinutes(10);
        _server.Answer = new ScriptedAnswer(503, "", new Dictionary<string, string> { ["Retry-After"] = until.ToString("R") });

        var ex = await Assert.ThrowsAsync<ProviderException>(() => _telnyx.HangUpAsync(CallControlId, Ct));

        Assert.True(ex.IsRetryable);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ex.StatusCode);
        Assert.InRange(ex.RetryAfter!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
    }

    [Fact]
    public async Task A_500_with_an_html_body_is_retryable()
    {
        _server.Answer = new ScriptedAnswer(500, "<html>oops</html>");

        var ex = await Assert.ThrowsAsync<ProviderException>(() => _telnyx.FetchCallAsync(CallControlId, Ct));

        Assert.Equal(((HttpStatusCode?)HttpStatusCode.InternalServerError, (string?)null, true), (ex.StatusCode, ex.ErrorCode, ex.IsRetryable));
    }

    [Fact]
    public async Task A_refused_connection_is_retryable_with_no_status()
    {
        await using var services = Build(RefusingBaseUrl(), RefusingBaseUrl());

        var ex = await Assert.ThrowsAsync<ProviderException>(() =>
            Telnyx(services).PlaceCallAsync(new PlaceCallRequest("+14155550123", "+14155550100"), Ct));

        Assert.True(ex.IsRetryable);
        Assert.Null(ex.StatusCode);
        Assert.Equal(TelephonyProvider.Telnyx, ex.Provider);
        Assert.DoesNotContain(ApiKey, ex.ToString());
    }

    [Theory]
    [InlineData("1494404757140276705", true)]
    [InlineData("", true)]
    [InlineData("1494 404757", false)]
    public void The_connection_id_option_must_have_no_spaces(string connectionId, bool valid)
    {
        var options = new TelephonyOptions { Telnyx = { ConnectionId = connectionId } };
        var errors = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        System.ComponentModel.DataAnnotations.Validator.TryValidateObject(
            options, new System.ComponentModel.DataAnnotations.ValidationContext(options), errors, validateAllProperties: true);

        Assert.Equal(valid, errors.Count == 0);
        Assert.All(errors, e => Assert.Contains("Telephony:Telnyx:ConnectionId", e.ErrorMessage));
    }

    private static string WithoutCommandId(string body)
    {
        var json = JsonNode.Parse(body)!.AsObject();
        json.Remove("command_id");
        return json.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }
}
