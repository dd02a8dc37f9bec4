using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Gateway.Tests.Support;

namespace VoiceKraliki.Gateway.Tests.Ops;

public class OpsConsoleTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task Ops_serves_the_operator_console_as_html_without_credentials()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await fixture.Client.GetAsync("/ops", cts.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync(cts.Token);
        Assert.Contains("<html", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("VoiceKraliki operator console", html);
    }

    [Fact]
    public async Task Ops_with_a_trailing_slash_redirects_to_ops()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await fixture.Client.GetAsync("/ops/", cts.Token);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ops", response.Headers.Location?.OriginalString);
    }
}

/// <summary>The AppHost starts the gateway from its build output (<c>dotnet exec</c> in <c>bin/</c>, Development).</summary>
public class OpsConsoleFromBuildOutputTests
{
    [Fact]
    public async Task Ops_is_served_when_the_content_root_is_the_build_output()
    {
        await using var backend = await EchoBackend.StartAsync();
        var output = Path.GetDirectoryName(typeof(Program).Assembly.Location)!;
        await using var gateway = new GatewayFactory(backend.Address, configure: web =>
        {
            web.UseEnvironment("Development");
            web.UseContentRoot(output);
        });
        using var client = gateway.CreateSocketClient();
        Assert.Equal(output, gateway.Services.GetRequiredService<IWebHostEnvironment>().ContentRootPath.TrimEnd('/'));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var response = await client.GetAsync("/ops", cts.Token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }
}
