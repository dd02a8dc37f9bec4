using System.Net;
using System.Text.RegularExpressions;
using VoiceKraliki.Simulator.Tests.Support;

namespace VoiceKraliki.Simulator.Tests.Twilio;

public sealed class TwilioApiTests : IAsyncLifetime
{
    private readonly ProviderSimulator _simulator = new(new SimulatorOptions { DefaultScenario = "answer ring=0 talk=600" });
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        await _simulator.StartAsync();
        _client = Http.TwilioClient(_simulator);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _simulator.DisposeAsync();
    }

    [Fact]
    public async Task Wrong_auth_token_is_401_with_twilio_error_20003()
    {
        using var client = Http.TwilioClient(_simulator, authToken: "wrong");

        using var response = await client.GetAsync(Http.CallsPath(_simulator, "CA00000000000000000000000000000000"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(20003, body.GetProperty("code").GetInt32());
        Assert.Equal(401, body.GetProperty("status").GetInt32());
        Assert.Equal("https://www.twilio.com/docs/errors/20003", body.GetProperty("more_info").GetString());
    }

    [Fact]
    public async Task Missing_credentials_are_401()
    {
        using var client = new HttpClient { BaseAddress = new Uri(_simulator.BaseUrl) };

        using var response = await client.PostAsync(Http.CallsPath(_simulator), Http.Form(("To", "+15550001111")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData(null, "+15550002222", 21201)]
    [InlineData("+15550001111", null, 21213)]
    public async Task Missing_number_is_400_with_twilio_code(string? to, string? from, int code)
    {
        var fields = new List<(string, string)> { ("Url", "https://example.com/twiml") };
        if (to is not null)
        {
            fields.Add(("To", to));
        }

        if (from is not null)
        {
            fields.Add(("From", from));
        }

        using var response = await _client.PostAsync(Http.CallsPath(_simulator), Http.Form([.. fields]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal(code, body.GetProperty("code").GetInt32());
        Assert.Equal(400, body.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
    }

    [Fact]
    public async Task Call_without_url_or_twiml_is_400()
    {
        using var response = await _client.PostAsync(Http.CallsPath(_simulator), Http.Form(("To", "+15550001111"), ("From", "+15550002222")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(21205, (await response.JsonAsync()).GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Created_call_has_twilios_shape_and_can_be_fetched()
    {
        using var created = await CreateCallAsync();

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var call = await created.JsonAsync();
        var sid = call.GetProperty("sid").GetString()!;
        Assert.Matches(SidPattern("CA"), sid);
        Assert.Equal(_simulator.Options.Twilio.AccountSid, call.GetProperty("account_sid").GetString());
        Assert.Equal("+15550001111", call.GetProperty("to").GetString());
        Assert.Equal("+15550002222", call.GetProperty("from").GetString());
        Assert.Equal("queued", call.GetProperty("status").GetString());
        Assert.Equal("outbound-api", call.GetProperty("direction").GetString());
        Assert.Equal($"/2010-04-01/Accounts/{_simulator.Options.Twilio.AccountSid}/Calls/{sid}.json", call.GetProperty("uri").GetString());
        Assert.Matches(@"^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000$", call.GetProperty("date_created").GetString());

        using var fetched = await _client.GetAsync(Http.CallsPath(_simulator, sid));

        Assert.Equal(HttpStatusCode.OK, fetched.StatusCode);
        Assert.Equal(sid, (await fetched.JsonAsync()).GetProperty("sid").GetString());
    }

    [Fact]
    public async Task Completing_a_call_hangs_it_up_and_it_can_no_longer_be_redirected()
    {
        var sid = await AnsweredCallAsync();

        using var updated = await _client.PostAsync(Http.CallsPath(_simulator, sid), Http.Form(("Status", "completed")));

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        var call = await updated.JsonAsync();
        Assert.Equal("completed", call.GetProperty("status").GetString());
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, call.GetProperty("end_time").ValueKind);

        using var redirect = await _client.PostAsync(Http.CallsPath(_simulator, sid), Http.Form(("Url", "https://example.com/next")));
        Assert.Equal(HttpStatusCode.BadRequest, redirect.StatusCode);
        Assert.Equal(21220, (await redirect.JsonAsync()).GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Answered_call_can_be_redirected()
    {
        var sid = await AnsweredCallAsync();

        using var updated = await _client.PostAsync(Http.CallsPath(_simulator, sid), Http.Form(("Twiml", "<Response><Hangup/></Response>")));

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal("in-progress", (await updated.JsonAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Unknown_call_is_404_with_code_20404()
    {
        using var fetched = await _client.GetAsync(Http.CallsPath(_simulator, "CA0123456789abcdef0123456789abcdef"));
        using var updated = await _client.PostAsync(Http.CallsPath(_simulator, "CA0123456789abcdef0123456789abcdef"), Http.Form(("Status", "completed")));

        foreach (var response in new[] { fetched, updated })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            var body = await response.JsonAsync();
            Assert.Equal(20404, body.GetProperty("code").GetInt32());
            Assert.Equal(404, body.GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task Recording_can_be_started_paused_stopped_and_deleted()
    {
        var sid = await AnsweredCallAsync();
        var recordings = $"/2010-04-01/Accounts/{_simulator.Options.Twilio.AccountSid}/Calls/{sid}/Recordings";

        using var started = await _client.PostAsync(recordings + ".json", Http.Form());
        Assert.Equal(HttpStatusCode.Created, started.StatusCode);
        var recording = await started.JsonAsync();
        var rid = recording.GetProperty("sid").GetString()!;
        Assert.Matches(SidPattern("RE"), rid);
        Assert.Equal(sid, recording.GetProperty("call_sid").GetString());
        Assert.Equal("in-progress", recording.GetProperty("status").GetString());

        using var paused = await _client.PostAsync($"{recordings}/{rid}.json", Http.Form(("Status", "paused")));
        Assert.Equal("paused", (await paused.JsonAsync()).GetProperty("status").GetString());
        using var stopped = await _client.PostAsync($"{recordings}/{rid}.json", Http.Form(("Status", "stopped")));
        Assert.Equal("stopped", (await stopped.JsonAsync()).GetProperty("status").GetString());

        using var deleted = await _client.DeleteAsync($"{recordings}/{rid}.json");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var again = await _client.DeleteAsync($"{recordings}/{rid}.json");
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Recording_a_call_that_is_not_answered_is_400()
    {
        _simulator.Scenarios.Set("+15550009999", Scenarios.CallScenario.Parse("busy ring=600"));
        using var created = await CreateCallAsync("+15550009999");
        var sid = (await created.JsonAsync()).GetProperty("sid").GetString();

        using var started = await _client.PostAsync($"/2010-04-01/Accounts/{_simulator.Options.Twilio.AccountSid}/Calls/{sid}/Recordings.json", Http.Form());

        Assert.Equal(HttpStatusCode.BadRequest, started.StatusCode);
        Assert.Equal(21220, (await started.JsonAsync()).GetProperty("code").GetInt32());
    }

    private Task<HttpResponseMessage> CreateCallAsync(string to = "+15550001111") =>
        _client.PostAsync(Http.CallsPath(_simulator), Http.Form(("To", to), ("From", "+15550002222"), ("Url", "https://example.com/twiml")));

    /// <summary>A call under "answer ring=0": answered almost at once, then talks for ten minutes.</summary>
    private async Task<string> AnsweredCallAsync()
    {
        using var created = await CreateCallAsync();
        var sid = (await created.JsonAsync()).GetProperty("sid").GetString()!;
        for (var i = 0; i < 200; i++)
        {
            using var fetched = await _client.GetAsync(Http.CallsPath(_simulator, sid));
            if ((await fetched.JsonAsync()).GetProperty("status").GetString() == "in-progress")
            {
                return sid;
            }

            await Task.Delay(10);
        }

        throw new TimeoutException("The call was never answered.");
    }

    private static Regex SidPattern(string prefix) => new($"^{prefix}[0-9a-f]{{32}}$");
}
