using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.ServiceDefaults.Messaging;

public static class EventBusExtensions
{
    /// <summary>
    /// MassTransit over RabbitMQ from <c>ConnectionStrings__{connectionName}</c>
    /// (<c>amqp://user:pass@host:port/vhost</c>): publisher confirms on, kebab-case endpoint names,
    /// message retry then MassTransit's <c>_error</c> queue, and a <c>messaging</c> health check.
    /// </summary>
    public static TBuilder AddEventBus<TBuilder>(
        this TBuilder builder,
        Action<IBusRegistrationConfigurator>? configure = null,
        string connectionName = "messaging")
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<EventBusOptions>()
            .Configure<IConfiguration>((o, configuration) =>
            {
                configuration.GetSection("EventBus").Bind(o);
                o.ConnectionString ??= configuration.GetConnectionString(connectionName);
                o.ConnectionName = connectionName;
            })
            .Validate(o => AmqpAddress.TryParse(o.ConnectionString, out _),
                $"ConnectionStrings:{connectionName} must be an amqp:// URI such as amqp://user:pass@127.0.0.1:5672.")
            .Validate(o => o.RetryIntervals is null || (o.RetryIntervals.Length <= 10 && o.RetryIntervals.All(ms => ms is >= 0 and <= 60_000)),
                "EventBus:RetryIntervals must be at most 10 delays, each 0 to 60000 ms.")
            .ValidateOnStart();

        builder.Services.AddSingleton<BrokerConnectionMonitor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<BrokerConnectionMonitor>());
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            "messaging-broker", sp => sp.GetRequiredService<BrokerConnectionMonitor>(), HealthStatus.Unhealthy, null));

        // The service starts even while the broker is down; /health says so until it is back.
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false;
            o.StopTimeout = TimeSpan.FromSeconds(10);
        });

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            bus.ConfigureHealthCheckOptions(health =>
            {
                health.Name = "messaging";
                health.MinimalFailureStatus = HealthStatus.Unhealthy;
            });

            configure?.Invoke(bus);

            bus.UsingRabbitMq((context, rabbit) =>
            {
                var options = context.GetRequiredService<IOptions<EventBusOptions>>().Value;
                AmqpAddress.TryParse(options.ConnectionString, out var address);
                rabbit.Host(address!.Host, address.Port, address.VirtualHost, host =>
                {
                    host.Username(address.Username);
                    host.Password(address.Password);
                    host.PublisherConfirmation = true;
                    host.Heartbeat(TimeSpan.FromSeconds(5));
                    host.RequestedConnectionTimeout(TimeSpan.FromSeconds(5));
                });

                // Transient failures are retried in place; a message that still fails goes to
                // the endpoint's _error queue (MassTransit's default fault handling), never dropped.
                rabbit.UseMessageRetry(retry => retry.Intervals(
                    options.EffectiveRetryIntervals.Select(ms => TimeSpan.FromMilliseconds(ms)).ToArray()));
                rabbit.ConfigureEndpoints(context);
            });
        });

        return builder;
    }
}

public sealed class EventBusOptions
{
    public string? ConnectionString { get; set; }

    public string ConnectionName { get; set; } = "messaging";

    public static readonly int[] DefaultRetryIntervals = [100, 500, 1000, 2000, 5000];

    /// <summary>
    /// Delays between in-place retries of a failing consumer, in milliseconds; unset means
    /// <see cref="DefaultRetryIntervals"/>. (Not initialized here: the configuration binder would
    /// append configured intervals to a default array instead of replacing it.)
    /// </summary>
    public int[]? RetryIntervals { get; set; }

    public IReadOnlyList<int> EffectiveRetryIntervals => RetryIntervals is { Length: > 0 } configured ? configured : DefaultRetryIntervals;
}
