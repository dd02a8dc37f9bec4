using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.ServiceDefaults.Tests.Support;

namespace VoiceKraliki.ServiceDefaults.Tests.Http;

/// <summary>Every IHttpClientFactory client resolves <c>http://{service}</c> from configuration, over real sockets.</summary>
public class ServiceDiscoveryTests
{
    private static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token;

    private static Func<HttpContext, int, Task> Named(string name) =>
        (context, _) => context.Response.WriteAsync($"{name} {context.Request.Path}{context.Request.QueryString}", context.RequestAborted);

    [Fact]
    public async Task A_request_to_a_service_name_reaches_the_configured_backend()
    {
        await using var backend = await LocalServer.StartAsync(Named("a"));
        using var host = new ClientHost(ClientHost.FastSettings(("services:call-state:http:0", backend.Address.ToString())));
        using var client = host.CreateClient();

        var body = await client.GetStringAsync(new Uri("http://call-state/api/calls/CA123?x=1"), Timeout());

        Assert.Equal("a /api/calls/CA123?x=1", body);
        Assert.Equal(1, backend.Hits);
    }

    [Fact]
    public async Task A_named_client_with_a_service_base_address_is_resolved_too()
    {
        await using var backend = await LocalServer.StartAsync(Named("a"));
        using var host = new ClientHost(ClientHost.FastSettings(("services:compliance:http:0", backend.Address.ToString())));
        using var client = host.CreateClient("compliance");
        client.BaseAddress = new Uri("http://compliance");

        var body = await client.GetStringAsync("/api/compliance/consent", Timeout());

        Assert.Equal("a /api/compliance/consent", body);
    }

    [Fact]
    public async Task Requests_round_robin_between_two_backends()
    {
        await using var a = await LocalServer.StartAsync(Named("a"));
        await using var b = await LocalServer.StartAsync(Named("b"));
        using var host = new ClientHost(ClientHost.FastSettings(
            ("services:call-state:http:0", a.Address.ToString()),
            ("services:call-state:http:1", b.Address.ToString())));
        using var client = host.CreateClient();

        var answers = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            answers.Add(await client.GetStringAsync(new Uri("http://call-state/x"), Timeout()));
        }

        Assert.Equal(5, a.Hits);
        Assert.Equal(5, b.Hits);
        for (var i = 1; i < answers.Count; i++)
        {
            Assert.NotEqual(answers[i - 1], answers[i]);
        }
    }

    [Theory]
    [InlineData("http://unknown-service/x")]
    [InlineData("https://api.twilio.com/2010-04-01/Accounts")]
    public async Task A_host_that_is_not_a_configured_service_is_sent_unchanged(string uri)
    {
        var seen = new List<Uri>();
        using var host = new ClientHost(
            ClientHost.FastSettings(("services:call-state:http:0", "http://127.0.0.1:9")),
            services => services.AddHttpClient("probe").AddHttpMessageHandler(() => new RecordingHandler(seen)));
        using var client = host.CreateClient("probe");

        using var response = await client.GetAsync(new Uri(uri), Timeout());

        Assert.Equal([new Uri(uri)], seen);
    }

    [Fact]
    public async Task Discovery_runs_inside_the_resilience_pipeline_on_every_client()
    {
        var seen = new List<Uri>();
        using var host = new ClientHost(
            ClientHost.FastSettings(("services:call-state:http:0", "http://127.0.0.1:5103")),
            services => services.AddHttpClient("probe").AddHttpMessageHandler(() => new RecordingHandler(seen, HttpStatusCode.ServiceUnavailable)));
        using var client = host.CreateClient("probe");

        using var response = await client.GetAsync(new Uri("http://call-state/x"), Timeout());

        // The innermost handler sees the resolved address, once per attempt (1 + 3 retries).
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(4, seen.Count);
        Assert.All(seen, u => Assert.Equal(new Uri("http://127.0.0.1:5103/x"), u));
    }

    private sealed class RecordingHandler(List<Uri> seen, HttpStatusCode status = HttpStatusCode.OK) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (seen)
            {
                seen.Add(request.RequestUri!);
            }

            return Task.FromResult(new HttpResponseMessage(status) { RequestMessage = request });
        }
    }

    [Fact]
    public async Task A_retry_after_a_dead_replica_goes_to_the_next_replica()
    {
        await using var live = await LocalServer.StartAsync(Named("live"));
        var deadAddress = await ClosedPortAsync();
        using var host = new ClientHost(ClientHost.FastSettings(
            ("services:call-state:http:0", deadAddress.ToString()),
            ("services:call-state:http:1", live.Address.ToString())));
        using var client = host.CreateClient();

        for (var i = 0; i < 6; i++)
        {
            using var response = await client.GetAsync(new Uri("http://call-state/x"), Timeout());
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(6, live.Hits);
    }

    /// <summary>An address on which nothing listens: a server that was started and stopped.</summary>
    private static async Task<Uri> ClosedPortAsync()
    {
        var server = await LocalServer.StartAsync();
        var address = server.Address;
        await server.DisposeAsync();
        return address;
    }
}
