using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using VoiceKraliki.AppHost;
using VoiceKraliki.Contracts;
using VoiceKraliki.IntegrationTests.Support;
using VoiceKraliki.Telephony.Media;

namespace VoiceKraliki.IntegrationTests;

/// <summary>Requests through the one public port reach the right service, with the development credentials.</summary>
[Collection(SystemCollection.Name)]
public sealed class GatewayTests(SystemFixture system)
{
    public static TheoryData<string, string> ApiPrefixes => new()
    {
        { "/api/calls", AppModel.CallStateName },
        { "/api/campaigns", AppModel.CallStateName },
        { "/api/flows", AppModel.CallStateName },
        { "/api/compliance", AppModel.ComplianceName },
        { "/api/alerts", AppModel.AlertingName },
    };

    private sealed record ServiceInfo(string Service, string Instance, string Version, string? Subject, string? AuthenticatedBy, string[] Roles);

    [Fact]
    public void Every_resource_is_healthy_and_the_startup_time_is_known()
    {
        Assert.All(system.App.GetResources(), r => Assert.Equal(VoiceKraliki.AppHost.Orchestration.ResourceState.Healthy, r.State));
        Assert.Equal(9, system.App.GetResources().Count);
        // Generous: only a gross regression breaks it; the measured figure goes to docs/performance.md.
        Assert.InRange(system.App.StartupDuration!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(120));
    }

    [Theory]
    [MemberData(nameof(ApiPrefixes))]
    public async Task An_api_prefix_without_credentials_is_refused_with_401(string prefix, string _)
    {
        using var client = system.CreateClient(system.Gateway);
        using var response = await client.GetAsync($"{prefix}/info");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [MemberData(nameof(ApiPrefixes))]
    public async Task An_api_prefix_with_the_development_api_key_reaches_its_service(string prefix, string service)
    {
        using var client = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        var info = await client.GetFromJsonAsync<ServiceInfo>($"{prefix}/info");

        Assert.Equal(service, info!.Service);
        Assert.Equal("ApiKey", info.AuthenticatedBy);
        Assert.Contains("admin", info.Roles);
    }

    [Theory]
    [MemberData(nameof(ApiPrefixes))]
    public async Task An_api_prefix_with_the_development_operator_token_reaches_its_service(string prefix, string service)
    {
        using var client = system.CreateClient(system.Gateway, bearer: system.App.DevOperatorJwt);
        var info = await client.GetFromJsonAsync<ServiceInfo>($"{prefix}/info");

        Assert.Equal(service, info!.Service);
        Assert.Contains("operator", info.Roles);
    }

    [Fact]
    public async Task A_wrong_api_key_is_refused_with_401()
    {
        using var client = system.CreateClient(system.Gateway, apiKey: "vk_wrong_0123456789abcdef0123456789");
        using var response = await client.GetAsync("/api/calls/info");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Requests_are_balanced_across_the_replicas_of_a_service()
    {
        using var client = system.CreateClient(system.Gateway, apiKey: system.App.DevApiKey);
        var instances = new HashSet<string>();
        for (var i = 0; i < 40 && instances.Count < 2; i++)
        {
            var info = await client.GetFromJsonAsync<ServiceInfo>("/api/calls/info");
            instances.Add(info!.Instance);
        }

        Assert.Equal(2, instances.Count);
    }

    [Fact]
    public async Task A_media_stream_websocket_through_the_gateway_reaches_media_bridge()
    {
        var callSid = ProviderWebhooks.NewCallSid();
        var token = new StreamTokenService(SystemFixture.StreamTokenKey, TimeProvider.System)
            .Issue(TelephonyProvider.Twilio, callSid, null, TimeSpan.FromMinutes(5));
        await using var client = await TwilioMediaClient.ConnectAsync(system.Gateway, callSid);
        await client.StartAsync(new Dictionary<string, string> { ["callSid"] = callSid, ["token"] = token });
        await client.StopAsync();

        // media-bridge answers "stop" by closing the stream normally: only it speaks this protocol.
        Assert.True(await client.WaitForCloseAsync(TimeSpan.FromSeconds(20)), "the stream was not closed");
        Assert.Equal(WebSocketCloseStatus.NormalClosure, client.CloseStatus);
        Assert.Equal("stream stopped", client.CloseDescription);
    }

    [Fact]
    public async Task The_operator_console_is_served_at_ops_without_credentials()
    {
        using var client = system.CreateClient(system.Gateway);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ops");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task An_oversized_webhook_is_refused_at_the_gateway_with_413_problem_details()
    {
        using var client = system.CreateClient(system.Gateway);
        using var content = new ByteArrayContent(new byte[65 * 1024]);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");
        using var response = await client.PostAsync("/webhooks/twilio/voice", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
