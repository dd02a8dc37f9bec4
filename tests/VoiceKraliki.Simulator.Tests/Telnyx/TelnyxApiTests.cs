using System.Net;
using System.Text.Json;
using VoiceKraliki.Simulator.Tests.Support;

namespace VoiceKraliki.Simulator.Tests.Telnyx;

public sealed class TelnyxApiTests : IAsyncLifetime
{
    private const string DialBody = """{"connection_id":"1234","to":"+15550001111","from":"+15550002222","client_state":"YWJj"}""";
    private readonly ProviderSimulator _simulator = new(new SimulatorOptions { DefaultScenario = "answer ring=0 talk=600" });
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        await _simulator.StartAsync();
        _client = Http.TelnyxClient(_simulator);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task Wrong_api_key_is_401_with_telnyx_error_10009()
    {
        using var client = Http.TelnyxClient(_simulator, apiKey: "KEYwrong");

        using var response = await client.PostAsync("/v2/calls", Http.Json(DialBody));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var error = (await response.JsonAsync()).GetProperty("errors")[0];
        Assert.Equal("10009", error.GetProperty("code").GetString());
        Assert.Equal("Authentication failed", error.GetProperty("title").GetString());
    }

    [Fact]
    public async Task Dial_returns_a_live_call_with_telnyx_ids()
    {
        using var response = await _client.PostAsync("/v2/calls", Http.Json(DialBody));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var data = (await response.JsonAsync()).GetProperty("data");
        Assert.StartsWith("v3:", data.GetProperty("call_control_id").GetString());
        Assert.True(Guid.TryParse(data.GetProperty("call_leg_id").GetString(), out _));
        Assert.True(Guid.TryParse(data.GetProperty("call_session_id").GetString(), out _));
        Assert.Equal("call", data.GetProperty("record_type").GetString());
        Assert.True(data.GetProperty("is_alive").GetBoolean());
        Assert.Equal("YWJj", data.GetProperty("client_state").GetString());
    }

    [Theory]
    [InlineData("""{"connection_id":"1234","from":"+15550002222"}""", "/to")]
    [InlineData("""{"to":"+15550001111","from":"+15550002222"}""", "/connection_id")]
    [InlineData("""{"connection_id":"1234","to":"+15550001111"}""", "/from")]
    public async Task Dial_without_a_required_field_is_422_pointing_at_it(string body, string pointer)
    {
        using var response = await _client.PostAsync("/v2/calls", Http.Json(body));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var error = (await response.JsonAsync()).GetProperty("errors")[0];
        Assert.Equal(pointer, error.GetProperty("source").GetProperty("pointer").GetString());
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1,2]")]
    public async Task Dial_with_a_malformed_body_is_422(string body)
    {
        using var response = await _client.PostAsync("/v2/calls", Http.Json(body));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal(JsonValueKind.Array, (await response.JsonAsync()).GetProperty("errors").ValueKind);
    }

    [Fact]
    public async Task Commands_answer_ok_and_a_hung_up_call_takes_no_more()
    {
        var id = await DialAsync();

        foreach (var (action, body) in new[] { ("record_start", """{"format":"mp3","channels":"single"}"""), ("send_dtmf", """{"digits":"1234"}"""), ("record_stop", "{}"), ("hangup", "{}") })
        {
            using var response = await _client.PostAsync($"/v2/calls/{Uri.EscapeDataString(id)}/actions/{action}", Http.Json(body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("ok", (await response.JsonAsync()).GetProperty("data").GetProperty("result").GetString());
        }

        using var late = await _client.PostAsync($"/v2/calls/{Uri.EscapeDataString(id)}/actions/hangup", Http.Json("{}"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, late.StatusCode);
        Assert.Equal("90018", (await late.JsonAsync()).GetProperty("errors")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task Transfer_without_a_destination_is_422()
    {
        var id = await DialAsync();

        using var response = await _client.PostAsync($"/v2/calls/{Uri.EscapeDataString(id)}/actions/transfer", Http.Json("{}"));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("/to", (await response.JsonAsync()).GetProperty("errors")[0].GetProperty("source").GetProperty("pointer").GetString());
    }

    [Fact]
    public async Task Unknown_call_or_command_is_404_in_telnyx_shape()
    {
        var id = await DialAsync();
        using var unknownCall = await _client.PostAsync("/v2/calls/v3:nope/actions/hangup", Http.Json("{}"));
        using var unknownAction = await _client.PostAsync($"/v2/calls/{Uri.EscapeDataString(id)}/actions/teleport", Http.Json("{}"));

        foreach (var response in new[] { unknownCall, unknownAction })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("10005", (await response.JsonAsync()).GetProperty("errors")[0].GetProperty("code").GetString());
        }
    }

    private async Task<string> DialAsync()
    {
        using var response = await _client.PostAsync("/v2/calls", Http.Json(DialBody));
        return (await response.JsonAsync()).GetProperty("data").GetProperty("call_control_id").GetString()!;
    }
}
