using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace VoiceKraliki.ServiceDefaults.Tests.Http;

/// <summary>
/// A host configured like a service (<c>AddServiceDefaults</c>) whose <see cref="IHttpClientFactory"/>
/// clients are the ones services use to call each other.
/// </summary>
internal sealed class ClientHost : IDisposable
{
    private readonly IHost _host;

    public ClientHost(IDictionary<string, string?> settings, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        configure?.Invoke(builder.Services);
        _host = builder.Build();
    }

    /// <summary>Fast retries so the tests do not wait on production back-off.</summary>
    public static Dictionary<string, string?> FastSettings(params (string Key, string? Value)[] overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["HttpResilience:RetryBaseDelay"] = "00:00:00.010",
            ["HttpResilience:MaxRetryAttempts"] = "3",
            ["HttpResilience:AttemptTimeout"] = "00:00:05",
            ["HttpResilience:TotalRequestTimeout"] = "00:00:20",
            // High enough that the breaker never opens in tests that are not about it.
            ["HttpResilience:CircuitBreakerMinimumThroughput"] = "1000",
        };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return settings;
    }

    public IServiceProvider Services => _host.Services;

    public HttpClient CreateClient(string name = "") =>
        Services.GetRequiredService<IHttpClientFactory>().CreateClient(name);

    public Task StartAsync(CancellationToken cancellationToken) => _host.StartAsync(cancellationToken);

    public void Dispose() => _host.Dispose();
}
