using VoiceKraliki.Simulator.Tests.Support;
using VoiceKraliki.Telephony.Signatures;

namespace VoiceKraliki.Simulator.Tests.Calls;

public sealed class TwilioCallbackTests : IAsyncLifetime
{
    private readonly SteppingTimeProvider _clock = new();
    private readonly ProviderSimulator _simulator;
    private WebhookReceiver _receiver = null!;
    private HttpClient _client = null!;

    public TwilioCallbackTests()
    {
        _simulator = new ProviderSimulator(
            new SimulatorOptions
            {
                Twilio = { AuthToken = "test-token-123" },
                Scenarios =
                {
                    ["+15550000001"] = "answer ring=2 talk=3",
                    ["+15550000002"] = "busy ring=4",
                    ["+15550000003"] = "no-answer ring=30",
                    ["+15550000004"] = "machine ring=1 talk=20",
                    ["+15550000005"] = "failed ring=0",
                },
            },
            _clock);
    }

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        await _simulator.StartAsync();
        _client = Http.TwilioClient(_simulator);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _simulator.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task Answered_call_sends_signed_callbacks_in_order_with_its_duration()
    {
        var sid = await PlaceCallAsync("+15550000001", AllEvents);

        var hooks = await _receiver.TakeAsync(4);

        var validator = new TwilioRequestValidator("test-token-123");
        var forms = hooks.Select(Form).ToList();
        Assert.Equal(["initiated", "ringing", "in-progress", "completed"], forms.Select(f => f["CallStatus"]));
        Assert.Equal(["0", "1", "2", "3"], forms.Select(f => f["SequenceNumber"]));
        Assert.All(forms, f => Assert.Equal(sid, f["CallSid"]));
        Assert.All(forms, f => Assert.Equal("outbound-api", f["Direction"]));
        Assert.All(forms, f => Assert.Equal(_simulator.Options.Twilio.AccountSid, f["AccountSid"]));
        Assert.Equal("3", forms[3]["CallDuration"]);
        Assert.False(forms[1].ContainsKey("AnsweredBy"));
        Assert.All(hooks, h => Assert.True(validator.Validate(h.Url, Fields(h), h.Header(TwilioSignature.HeaderName))));
        Assert.All(hooks, h => Assert.False(new TwilioRequestValidator("other-token").Validate(h.Url, Fields(h), h.Header(TwilioSignature.HeaderName))));
        var stamps = forms.Select(f => DateTimeOffset.ParseExact(f["Timestamp"], "ddd, dd MMM yyyy HH:mm:ss '+0000'", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal)).ToList();
        Assert.Equal(TimeSpan.FromSeconds(5), stamps[3] - stamps[0]);
    }

    [Fact]
    public async Task Without_events_only_completed_is_sent()
    {
        await PlaceCallAsync("+15550000001", []);

        var hooks = await _receiver.TakeAsync(1);

        Assert.Equal("completed", Form(hooks[0])["CallStatus"]);
        Assert.Equal("0", Form(hooks[0])["SequenceNumber"]);
        Assert.True(await _receiver.StaysQuietAsync());
    }

    [Theory]
    [InlineData("+15550000002", "busy")]
    [InlineData("+15550000003", "no-answer")]
    [InlineData("+15550000005", "failed")]
    public async Task Unanswered_call_ends_with_the_scenarios_status(string to, string status)
    {
        var sid = await PlaceCallAsync(to, AllEvents);

        var forms = (await _receiver.TakeAsync(3)).Select(Form).ToList();

        Assert.Equal(["initiated", "ringing", status], forms.Select(f => f["CallStatus"]));
        Assert.Equal("0", forms[2]["CallDuration"]);
        using var fetched = await _client.GetAsync(Http.CallsPath(_simulator, sid));
        Assert.Equal(status, (await fetched.JsonAsync()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Machine_detection_reports_answered_by_machine()
    {
        var sid = await PlaceCallAsync("+15550000004", ["answered", "completed"], ("MachineDetection", "Enable"));

        var forms = (await _receiver.TakeAsync(2)).Select(Form).ToList();

        Assert.Equal(["in-progress", "completed"], forms.Select(f => f["CallStatus"]));
        Assert.All(forms, f => Assert.Equal("machine_end_beep", f["AnsweredBy"]));
        Assert.Equal("20", forms[1]["CallDuration"]);
        using var fetched = await _client.GetAsync(Http.CallsPath(_simulator, sid));
        Assert.Equal("machine_end_beep", (await fetched.JsonAsync()).GetProperty("answered_by").GetString());
    }

    [Fact]
    public async Task Human_answer_with_machine_detection_reports_human()
    {
        await PlaceCallAsync("+15550000001", ["answered"], ("MachineDetection", "DetectMessageEnd"));

        var form = Form((await _receiver.TakeAsync(1))[0]);

        Assert.Equal("human", form["AnsweredBy"]);
    }

    [Fact]
    public async Task Failed_callback_is_retried_once_with_the_same_signature_and_idempotency_token()
    {
        _receiver.RespondWith(500);
        await PlaceCallAsync("+15550000001", ["initiated"]);

        var hooks = await _receiver.TakeAsync(2);

        Assert.Equal(hooks[0].Body, hooks[1].Body);
        Assert.Equal(hooks[0].Header(TwilioSignature.HeaderName), hooks[1].Header(TwilioSignature.HeaderName));
        Assert.Equal(hooks[0].Header("I-Twilio-Idempotency-Token"), hooks[1].Header("I-Twilio-Idempotency-Token"));
        Assert.True(await _receiver.StaysQuietAsync());
    }

    [Fact]
    public async Task Retry_count_fragment_zero_means_no_retry_and_the_fragment_is_not_signed()
    {
        _receiver.RespondWith(503);
        await PlaceCallAsync("+15550000001", ["initiated"], callbackSuffix: "#rc=0");

        var hook = (await _receiver.TakeAsync(1))[0];

        Assert.DoesNotContain("#", hook.Url);
        Assert.True(new TwilioRequestValidator("test-token-123").Validate(hook.Url, Fields(hook), hook.Header(TwilioSignature.HeaderName)));
        Assert.True(await _receiver.StaysQuietAsync());
        Assert.Single(_simulator.WebhookAttempts, a => a.StatusCode == 503);
    }

    private static readonly string[] AllEvents = ["initiated", "ringing", "answered", "completed"];

    private async Task<string> PlaceCallAsync(string to, string[] events, (string, string)? extra = null, string callbackSuffix = "")
    {
        var fields = new List<(string, string)>
        {
            ("To", to),
            ("From", "+15557654321"),
            ("Url", "https://example.com/twiml"),
            ("StatusCallback", $"{_receiver.BaseUrl}/webhooks/twilio/status?tenant=a%20b{callbackSuffix}"),
        };
        fields.AddRange(events.Select(e => ("StatusCallbackEvent", e)));
        if (extra is { } field)
        {
            fields.Add(field);
        }

        using var response = await _client.PostAsync(Http.CallsPath(_simulator), Http.Form([.. fields]));
        response.EnsureSuccessStatusCode();
        return (await response.JsonAsync()).GetProperty("sid").GetString()!;
    }

    private static IReadOnlyList<KeyValuePair<string, string>> Fields(ReceivedWebhook hook)
    {
        Assert.True(FormBody.TryParse(hook.Body, out var fields));
        return fields;
    }

    private static Dictionary<string, string> Form(ReceivedWebhook hook) => Fields(hook).ToDictionary(f => f.Key, f => f.Value);
}
