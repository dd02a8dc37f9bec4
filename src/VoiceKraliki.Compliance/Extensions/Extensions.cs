using MassTransit;
using VoiceKraliki.ServiceDefaults.Data;
using VoiceKraliki.ServiceDefaults.Messaging;

namespace VoiceKraliki.Compliance.Extensions;

internal static class Extensions
{
    public const string DatabaseConnectionName = "postgres-compliance";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddPostgres(DatabaseConnectionName);
        builder.AddMigrations(typeof(Extensions).Assembly);
        builder.AddEventBus(bus => bus.AddConsumers(typeof(Extensions).Assembly));
    }
}
