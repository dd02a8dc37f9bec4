using System.Net;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Contracts;
using VoiceKraliki.Simulator.Faults;
using VoiceKraliki.Simulator.Tests.Support;
using VoiceKraliki.Telephony;
using VoiceKraliki.Telephony.Providers;

namespace VoiceKraliki.Simulator.Tests.Adapters;

/// <summary>
/// Our own provider adapters (Telephony/Providers) against the simulator, two sides written apart from each other from
/// the providers' documentation: a call placed, fetched, recorded and hung up on each provider; the simulator's errors
/// read as the adapters classify the real providers' ones.
/// </summary>
public sealed class AdaptersAgainstSimulatorTests : IAsyncLifetime
{
    private const string ConnectionId = "1494404757140276705";

    private readonly ProviderSimulator _simulator = new();
    private WebhookReceiver _receiver = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _receiver = await WebhookReceiver.StartAsync();
        _simulator.Options.Telnyx.WebhookUrl = _receiver.BaseUrl + "/telnyx";
        await _simulator.StartAsync();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddOptions<TelephonyOptions>().Configure(o =>
        {
            o.Twilio.AccountSid = _simulator.Options.Twilio.AccountSid;
            o.Twilio.AuthToken = _simulator.Options.Twilio.AuthToken;
            o.Twilio.ApiBaseUrl = _simulator.BaseUrl;
            o.Telnyx.ApiKey = _simulator.Options.Telnyx.ApiKey;
            o.Telnyx.ConnectionId = ConnectionId;
            o.Telnyx.ApiBaseUrl = _simulator.BaseUrl;
        });
        services.AddCallControl();
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _simulator.DisposeAsync();
        await _receiver.DisposeAsync();
    }

    [Fact]
    public async Task A_twilio_call_is_placed_fetched_recorded_and_hung_up_through_our_adapter()
    {
        var twilio = _services.GetRequiredService<CallControls>().For(TelephonyProvider.Twilio);
        var placed = await twilio.PlaceCallAsync(new PlaceCallRequest("+14155550123", "+14155550100")
        {
            InstructionsUrl = new Uri(_receiver.BaseUrl + "/twiml"),
            StatusCallbackUrl = new Uri(_receiver.BaseUrl + "/status"),
        }, CancellationToken.None);

        Assert.StartsWith("CA", placed.CallId, StringComparison.Ordinal);
        var fetched = await twilio.FetchCallAsync(placed.CallId, CancellationToken.None);
        Assert.Equal(placed.CallId, fetched.CallId);
        Assert.False(string.IsNullOrEmpty(fetched.ProviderStatus));

        await twilio.HangUpAsync(placed.CallId, CancellationToken.None);
        var ended = await twilio.FetchCallAsync(placed.CallId, CancellationToken.None);
        Assert.Contains(ended.ProviderStatus, new[] { "completed", "canceled" });
        Assert.True(ended.Status is CallStatus.Completed or CallStatus.Failed, $"status {ended.Status} for {ended.ProviderStatus}");
    }

    [Fact]
    public async Task A_telnyx_call_is_placed_commanded_and_hung_up_through_our_adapter()
    {
        var telnyx = _services.GetRequiredService<CallControls>().For(TelephonyProvider.Telnyx);
        var placed = await telnyx.PlaceCallAsync(new PlaceCallRequest("+14155550123", "+14155550100") { ClientState = "campaign-7" }, CancellationToken.None);

        Assert.StartsWith("v3:", placed.CallId, StringComparison.Ordinal);
        Assert.Null(await telnyx.StartRecordingAsync(placed.CallId, new RecordingRequest(), CancellationToken.None));
        await telnyx.SendDtmfAsync(placed.CallId, "12#", null, CancellationToken.None);
        await telnyx.HangUpAsync(placed.CallId, CancellationToken.None);

        var afterHangup = await Assert.ThrowsAsync<ProviderException>(() => telnyx.HangUpAsync(placed.CallId, CancellationToken.None));
        Assert.False(afterHangup.IsRetryable);
    }

    [Fact]
    public async Task The_simulators_faults_read_as_the_adapters_classify_the_providers_errors()
    {
        var twilio = _services.GetRequiredService<CallControls>().For(TelephonyProvider.Twilio);
        var unknown = await Assert.ThrowsAsync<ProviderException>(() => twilio.FetchCallAsync("CA" + new string('0', 32), CancellationToken.None));
        Assert.Equal(((HttpStatusCode?)HttpStatusCode.NotFound, "20404", false), (unknown.StatusCode, unknown.ErrorCode, unknown.IsRetryable));

        _simulator.Faults.Add(new FaultRule { Provider = "twilio", Kind = FaultKind.TooManyRequests, Count = 1, RetryAfterSeconds = 3 });
        var limited = await Assert.ThrowsAsync<ProviderException>(() => twilio.PlaceCallAsync(
            new PlaceCallRequest("+14155550123", "+14155550100") { InstructionsUrl = new Uri(_receiver.BaseUrl + "/twiml") }, CancellationToken.None));
        Assert.Equal(((HttpStatusCode?)HttpStatusCode.TooManyRequests, true, (TimeSpan?)TimeSpan.FromSeconds(3)), (limited.StatusCode, limited.IsRetryable, limited.RetryAfter));
    }
}
