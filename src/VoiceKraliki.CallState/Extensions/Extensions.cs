using MassTransit;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using VoiceKraliki.CallState.Events;
using VoiceKraliki.CallState.Persistence;
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

        builder.AddCallStateDatabase();
        builder.AddCallEventProcessing();
    }

    /// <summary>EF Core over the <see cref="NpgsqlDataSource"/> that <c>AddPostgres</c> registered (one pool, one health check).</summary>
    private static void AddCallStateDatabase(this IHostApplicationBuilder builder)
    {
        builder.Services.AddPooledDbContextFactory<CallStateDbContext>(
            (sp, options) => options.UseNpgsql(sp.GetRequiredService<NpgsqlDataSource>()));
        builder.Services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<CallStateDbContext>>().CreateDbContext());

        // Every statement at Information would drown the service's own log.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Warning);
    }

    /// <summary>Exactly-once application of call events, and the outbox relay that announces the changes.</summary>
    private static void AddCallEventProcessing(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<OutboxOptions>(OutboxOptions.SectionName);
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<CallEventProcessor>();
        builder.Services.AddHostedService<OutboxRelay>();
    }
}
