using Microsoft.Extensions.DependencyInjection.Extensions;

namespace VoiceKraliki.Alerting.Notifications.Channels;

public static class NotificationChannelsExtensions
{
    /// <summary>
    /// The four channel types, their delivery (<see cref="ChannelDelivery"/>: rate limit, retries, deadline) and its
    /// options from <c>Alerting:Channels</c>, validated at start.
    /// </summary>
    public static IServiceCollection AddNotificationChannels(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(s => s.ServiceType == typeof(ChannelDelivery)))
        {
            return services;
        }

        services.AddOptions<ChannelDeliveryOptions>()
            .Bind(configuration.GetSection(ChannelDeliveryOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);

        foreach (var name in new[] { SlackChannel.HttpClientName, PagerDutyChannel.HttpClientName, WebhookChannel.HttpClientName })
        {
            services.AddHttpClient(name)
                // The factory's default loggers write every request URI, and a Slack or webhook URL is a secret; so does
                // the framework's HTTP span, which SecretUrlHandler has redacted before export.
                .RemoveAllLoggers()
                .AddHttpMessageHandler(() => new VoiceKraliki.ServiceDefaults.Telemetry.SecretUrlHandler())
                // A redirect would carry the alert somewhere nobody configured; a moved receiver is reconfigured instead.
                .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
                {
                    AllowAutoRedirect = false,
                    PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                });
        }

        services.AddSingleton<SlackChannel>();
        services.AddSingleton<PagerDutyChannel>();
        services.AddSingleton<EmailChannel>();
        services.AddSingleton<WebhookChannel>();
        services.AddSingleton<INotificationChannel>(sp => sp.GetRequiredService<SlackChannel>());
        services.AddSingleton<INotificationChannel>(sp => sp.GetRequiredService<PagerDutyChannel>());
        services.AddSingleton<INotificationChannel>(sp => sp.GetRequiredService<EmailChannel>());
        services.AddSingleton<INotificationChannel>(sp => sp.GetRequiredService<WebhookChannel>());
        services.AddSingleton<ChannelRateLimiter>();
        services.AddSingleton<ChannelDelivery>();
        return services;
    }
}
