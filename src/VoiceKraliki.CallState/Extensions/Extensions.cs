using MassTransit;
using VoiceKraliki.ServiceDefaults.Data;
using VoiceKraliki.ServiceDefaults.Messaging;
using VoiceKraliki.ServiceDefaults.Redis;
using VoiceKraliki.Telephony;

namespace VoiceKraliki.CallState.Extensions;

internal static class Extensions
{
    public const string DatabaseConnectionName = "postgres-call-state";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<TelephonyOptions>(TelephonyOptions.SectionName);
        builder.AddPostgres(DatabaseConnectionName);
        builder.AddMigrations(typeof(Extensions).Assembly);
        builder.AddRedis();
        builder.AddEventBus(bus => bus.AddConsumers(typeof(Extensions).Assembly));
    }
}
