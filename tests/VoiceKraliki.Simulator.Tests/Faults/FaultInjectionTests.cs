using System.Net;
using System.Net.Http.Json;
using VoiceKraliki.Simulator.Faults;
using VoiceKraliki.Simulator.Tests.Support;

namespace VoiceKraliki.Simulator.Tests.Faults;

public sealed class FaultInjectionTests : IAsyncLifetime
{
    private readonly SteppingTimeProvider _clock = new();
    private ProviderSimulator _simulator = null!;

    public async Task InitializeAsync()
    {
        _simulator = new ProviderSimulator(
            new SimulatorOptions { DefaultScenario = "answer ring=600", FaultHangTime = TimeSpan.FromSeconds(30) },
            TimeProvider.System);
        await _simulator.StartAsync();
    }

    public async Task DisposeAsync() => await _simulator.DisposeAsync();

    [Fact]
    public async Task Injected_500_answers_in_twilio_shape_for_its_count_then_stops()
    {
        _simulator.Faults.Add(new FaultRule { Provider = "twilio", PathPattern = "*/Calls.json", Kind = FaultKind.ServerError, Count = 2 });
        using var client = Http.TwilioClient(_simulator);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await CreateTwilioCallAsync(client);
            statuses.Add(response.StatusCode);
            if (i == 0)
            {
                var body = await response.JsonAsync();
                Assert.Equal(20500, body.GetProperty("code").GetInt32());
                Assert.Equal(500, body.GetProperty("status").GetInt32());
            }
        }

        Assert.Equal([HttpStatusCode.InternalServerError, HttpStatusCode.InternalServerError, HttpStatusCode.Created], statuses);
    }

    [Fact]
    public async Task Fault_added_over_http_gives_telnyx_429_with_retry_after()
    {
        using var admin = new HttpClient { BaseAddress = new Uri(_simulator.BaseUrl) };
        using var added = await admin.PostAsJsonAsync("/_simulator/faults", new { provider = "telnyx", path = "/v2/calls", method = "POST", kind = "429", count = 1, retryAfterSeconds = 7 });
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        using var client = Http.TelnyxClient(_simulator);

        using var limited = await client.PostAsync("/v2/calls", Http.Json("""{"connection_id":"c","to":"+15550000001","from":"+15550000002"}"""));
        using var next = await client.PostAsync("/v2/calls", Http.Json("""{"connection_id":"c","to":"+15550000001","from":"+15550000002"}"""));

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), limited.Headers.RetryAfter?.Delta);
        Assert.Equal("10011", (await limited.JsonAsync()).GetProperty("errors")[0].GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Timeout_fault_holds_the_request_until_the_client_gives_up()
    {
        _simulator.Faults.Add(new FaultRule { Provider = "twilio", Kind = FaultKind.Timeout, Count = 1 });
        using var client = Http.TwilioClient(_simulator);
        client.Timeout = TimeSpan.FromMilliseconds(300);

        await Assert.ThrowsAsync<TaskCanceledException>(() => CreateTwilioCallAsync(client));

        using var patient = Http.TwilioClient(_simulator);
        using var after = await CreateTwilioCallAsync(patient);
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
    }

    [Fact]
    public async Task Fault_only_hits_its_provider_and_method()
    {
        _simulator.Faults.Add(new FaultRule { Provider = "telnyx", Method = "GET", Kind = FaultKind.ServerError });
        using var client = Http.TwilioClient(_simulator);
        using var telnyx = Http.TelnyxClient(_simulator);

        using var twilioResponse = await CreateTwilioCallAsync(client);
        using var telnyxResponse = await telnyx.PostAsync("/v2/calls", Http.Json("""{"connection_id":"c","to":"+15550000001","from":"+15550000002"}"""));

        Assert.Equal(HttpStatusCode.Created, twilioResponse.StatusCode);
        Assert.Equal(HttpStatusCode.OK, telnyxResponse.StatusCode);
    }

    [Fact]
    public async Task Fault_with_a_duration_expires_on_the_simulators_clock()
    {
        await using var simulator = new ProviderSimulator(timeProvider: _clock);
        await simulator.StartAsync();
        using var admin = new HttpClient { BaseAddress = new Uri(simulator.BaseUrl) };
        using var added = await admin.PostAsJsonAsync("/_simulator/faults", new { kind = "500", durationSeconds = 10 });
        using var client = Http.TwilioClient(simulator);

        using var during = await CreateTwilioCallAsync(client, simulator);
        _clock.Advance(TimeSpan.FromSeconds(11));
        using var after = await CreateTwilioCallAsync(client, simulator);

        Assert.Equal(HttpStatusCode.InternalServerError, during.StatusCode);
        Assert.Equal(HttpStatusCode.Created, after.StatusCode);
    }

    [Fact]
    public async Task Faults_can_be_listed_and_cleared_over_http()
    {
        using var admin = new HttpClient { BaseAddress = new Uri(_simulator.BaseUrl) };
        using var added = await admin.PostAsJsonAsync("/_simulator/faults", new { kind = "timeout" });
        Assert.Equal(1, (await (await admin.GetAsync("/_simulator/faults")).JsonAsync()).GetArrayLength());

        using var cleared = await admin.DeleteAsync("/_simulator/faults");

        Assert.Equal(HttpStatusCode.NoContent, cleared.StatusCode);
        Assert.Empty(_simulator.Faults.Active);
    }

    [Theory]
    [InlineData("""{"kind":"503"}""")]
    [InlineData("""{"kind":"500","provider":"vonage"}""")]
    [InlineData("""{"kind":"500","count":0}""")]
    public async Task Invalid_fault_is_a_validation_problem(string json)
    {
        using var admin = new HttpClient { BaseAddress = new Uri(_simulator.BaseUrl) };

        using var response = await admin.PostAsync("/_simulator/faults", Http.Json(json));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Scenario_can_be_set_over_http_and_a_bad_one_is_rejected()
    {
        using var admin = new HttpClient { BaseAddress = new Uri(_simulator.BaseUrl) };

        using var good = await admin.PutAsJsonAsync("/_simulator/scenarios/+15550001234", new { scenario = "busy ring=2" });
        using var bad = await admin.PutAsJsonAsync("/_simulator/scenarios/+15550001234", new { scenario = "explode" });

        Assert.Equal(HttpStatusCode.NoContent, good.StatusCode);
        Assert.Equal(Scenarios.CallOutcome.Busy, _simulator.Scenarios.For("+15550001234").Outcome);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    private Task<HttpResponseMessage> CreateTwilioCallAsync(HttpClient client, ProviderSimulator? simulator = null) =>
        client.PostAsync(Http.CallsPath(simulator ?? _simulator), Http.Form(("To", "+15550001111"), ("From", "+15550002222"), ("Url", "https://example.com/twiml")));
}
