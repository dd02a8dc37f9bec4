using Microsoft.Extensions.DependencyInjection;
using Polly.CircuitBreaker;
using Polly.Timeout;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Providers;
using static VoiceKraliki.Telephony.Tests.Providers.CallControlHost;

namespace VoiceKraliki.Telephony.Tests.Providers;

/// <summary>When no answer comes back at all, the adapters say "try again later", whichever layer gave up.</summary>
public sealed class NoAnswerTests : IAsyncLifetime
{
    private const string CallId = "CA11111111111111111111111111111111";
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromSeconds(30));
    private ProviderApiServer _server = null!;

    public async Task InitializeAsync() => _server = await ProviderApiServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _timeout.Dispose();
    }

    [Theory]
    [InlineData(TelephonyProvider.Twilio)]
    [InlineData(TelephonyProvider.Telnyx)]
    public async Task A_provider_that_does_not_answer_in_time_is_retryable(TelephonyProvider provider)
    {
        _server.Answer = new ScriptedAnswer(200, "{}") { Delay = TimeSpan.FromSeconds(20) };
        await using var services = Build(
            services => services.ConfigureHttpClientDefaults(http => http.ConfigureHttpClient(c => c.Timeout = TimeSpan.FromMilliseconds(300))));

        var ex = await Assert.ThrowsAsync<ProviderException>(() =>
            services.GetRequiredService<CallControls>().For(provider).HangUpAsync(CallId, _timeout.Token));

        Assert.True(ex.IsRetryable);
        Assert.Null(ex.StatusCode);
        Assert.Equal(provider, ex.Provider);
    }

    [Fact]
    public async Task The_resilience_pipelines_timeout_is_retryable()
    {
        await using var services = Build(s => s.ConfigureHttpClientDefaults(http => http.AddHttpMessageHandler(() => new Throwing(new TimeoutRejectedException()))));

        var ex = await Assert.ThrowsAsync<ProviderException>(() => Twilio(services).HangUpAsync(CallId, _timeout.Token));

        Assert.True(ex.IsRetryable);
        Assert.IsType<TimeoutRejectedException>(ex.InnerException);
    }

    [Fact]
    public async Task An_open_circuit_is_retryable_after_the_circuits_break()
    {
        var broken = new BrokenCircuitException("The circuit is now open.", TimeSpan.FromSeconds(5));
        await using var services = Build(s => s.ConfigureHttpClientDefaults(http => http.AddHttpMessageHandler(() => new Throwing(broken))));

        var ex = await Assert.ThrowsAsync<ProviderException>(() => Telnyx(services).HangUpAsync(CallId, _timeout.Token));

        Assert.Equal((true, (TimeSpan?)TimeSpan.FromSeconds(5)), (ex.IsRetryable, ex.RetryAfter));
    }

    [Fact]
    public async Task Cancellation_by_the_caller_is_not_turned_into_a_provider_error()
    {
        _server.Answer = new ScriptedAnswer(200, "{}") { Delay = TimeSpan.FromSeconds(20) };
        await using var services = Build(_ => { });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Twilio(services).HangUpAsync(CallId, cancel.Token));
    }

    private ServiceProvider Build(Action<IServiceCollection> configure) => CallControlHost.Build(_server.BaseUrl, _server.BaseUrl, configure);

    /// <summary>Stands in for a resilience pipeline that gave up before the request left.</summary>
    private sealed class Throwing(Exception exception) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromException<HttpResponseMessage>(exception);
    }
}
