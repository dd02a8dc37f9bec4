using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VoiceKraliki.MediaBridge.Tests.Support;

/// <summary>
/// The real media-bridge <c>Program</c> on Kestrel on a free loopback port. The broker address points
/// at a closed port: the bus never connects, which these tests do not need (/health says 503).
/// </summary>
public sealed class MediaBridgeFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings = new()
    {
        ["ConnectionStrings:messaging"] = "amqp://guest:guest@127.0.0.1:1",
        ["MediaStreams:MaxMessageBytes"] = "2048",
    };

    public MediaBridgeFactory(IDictionary<string, string?>? overrides = null)
    {
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
    }

    public int MaxMessageBytes => int.Parse(_settings["MediaStreams:MaxMessageBytes"]!);

    public Uri Address
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
            return new Uri(addresses.Single());
        }
    }

    public Uri WebSocketUri(string path) => new UriBuilder(Address) { Scheme = "ws", Path = path }.Uri;

    public HttpClient CreateSocketClient() => new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(20) };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.ClearProviders());
    }
}

public sealed class MediaBridgeFixture : IAsyncLifetime
{
    public MediaBridgeFactory Factory { get; } = new();

    public Task InitializeAsync()
    {
        _ = Factory.Address;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();
}
