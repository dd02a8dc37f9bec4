using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using VoiceKraliki.ServiceDefaults.Messaging;

namespace VoiceKraliki.IntegrationTests.Support;

/// <summary>A consumer of the system's real RabbitMQ in the test process, on a temporary queue of its own.</summary>
public static class BusListener
{
    /// <summary>Started and connected (healthy, or 30 s passed); stop and dispose it when done.</summary>
    public static async Task<IHost> StartAsync<TConsumer>(SystemFixture system, string queuePrefix, Action<IServiceCollection> services)
        where TConsumer : class, IConsumer
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = system.App.GetConnectionString("messaging"),
            ["Auth:ApiKeys:0:Key"] = system.App.DevApiKey,
            ["Auth:ApiKeys:0:Roles"] = "service",
        });
        builder.AddServiceDefaults();
        builder.AddEventBus(bus => bus.AddConsumer<TConsumer>()
            .Endpoint(e => { e.Name = queuePrefix + "-" + Guid.NewGuid().ToString("N")[..8]; e.Temporary = true; }));
        services(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var watch = Stopwatch.StartNew();
        while ((await health.CheckHealthAsync()).Status != HealthStatus.Healthy && watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(200);
        }

        return host;
    }
}
