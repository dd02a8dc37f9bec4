using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using VoiceKraliki.Alerting.Lifecycle;
using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.Alerting.Notifications.Channels;
using VoiceKraliki.Alerting.Signals;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;
using VoiceKraliki.ServiceDefaults.Messaging;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;

namespace VoiceKraliki.Alerting.Extensions;

internal static class Extensions
{
    public const string DatabaseConnectionName = "postgres-alerting";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<AlertingOptions>(AlertingOptions.SectionName);
        builder.AddValidatedOptions<NotificationOptions>(NotificationOptions.SectionName);
        builder.AddPostgres(DatabaseConnectionName);
        builder.AddMigrations(typeof(Extensions).Assembly, OutboxSchema.Migration("0004_outbox"));
        builder.AddEventBus(bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.AddOutbox(types => types.Add<AlertFired>().Add<AlertResolved>());

        // Signals from the bus, sampled every evaluation.
        builder.AddSignals();

        // Rules, alerts and their evaluation on the leading replica.
        builder.Services.AddSingleton<RuleStore>();
        builder.Services.AddSingleton<AlertStore>();
        builder.Services.AddSingleton<AlertingEngine>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AlertingEngine>());

        // Notifications: routing, silences, channels and the log that keeps them from repeating.
        builder.Services.AddNotificationChannels(builder.Configuration);
        builder.Services.AddSingleton<Router>();
        builder.Services.AddSingleton<SilenceStore>();
        builder.Services.AddSingleton<ChannelStore>();
        builder.Services.AddSingleton<NotificationLog>();
        builder.Services.AddSingleton<INotificationDelivery, ChannelNotificationDelivery>();
        builder.Services.AddSingleton<NotificationDispatcher>();
    }
}
