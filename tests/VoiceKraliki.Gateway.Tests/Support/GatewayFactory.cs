using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VoiceKraliki.Gateway.Tests.Support;

/// <summary>
/// The real gateway <c>Program</c> on Kestrel on a free loopback port, its routes pointed at
/// <paramref name="backend"/> the way the AppHost configures them (<c>ReverseProxy__…</c>).
/// </summary>
public sealed class GatewayFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IWebHostBuilder>? _configure;

    public GatewayFactory(Uri backend, IDictionary<string, string?>? overrides = null, Action<IWebHostBuilder>? configure = null)
    {
        _configure = configure;
        _settings = RouteSettings(backend);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
    }

    public static Dictionary<string, string?> RouteSettings(Uri backend) => new()
    {
        ["ReverseProxy:Routes:webhooks:ClusterId"] = "ingress",
        ["ReverseProxy:Routes:webhooks:Match:Path"] = "/webhooks/{**rest}",
        ["ReverseProxy:Routes:media:ClusterId"] = "media",
        ["ReverseProxy:Routes:media:Match:Path"] = "/media/{**rest}",
        ["ReverseProxy:Routes:calls:ClusterId"] = "calls",
        ["ReverseProxy:Routes:calls:Match:Path"] = "/api/calls/{**rest}",
        ["ReverseProxy:Clusters:ingress:Destinations:d0:Address"] = backend.ToString(),
        ["ReverseProxy:Clusters:media:Destinations:d0:Address"] = backend.ToString(),
        ["ReverseProxy:Clusters:calls:Destinations:d0:Address"] = backend.ToString(),
    };

    /// <summary>The gateway's real address (starts the server on first use).</summary>
    public Uri Address
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
            return new Uri(addresses.Single());
        }
    }

    /// <summary>A plain socket client to the gateway, with a timeout so nothing can hang.</summary>
    public HttpClient CreateSocketClient() =>
        new(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(20) };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.ClearProviders());
        _configure?.Invoke(builder);
    }
}
