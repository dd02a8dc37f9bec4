using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using VoiceKraliki.CallState.Cache;
using VoiceKraliki.CallState.Events;
using VoiceKraliki.CallState.Metrics;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.CallState.Reconciliation;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;
using VoiceKraliki.ServiceDefaults.Messaging;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;
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
        // Postgres is the truth and Redis only the fast tier: without Redis the service works, Degraded.
        builder.AddRedis(failureStatus: HealthStatus.Degraded);
        builder.AddEventBus(bus => bus.AddConsumers(typeof(Extensions).Assembly));

        builder.AddCallStateDatabase();
        builder.AddCallEventProcessing();
        builder.AddCallFastTier();
        builder.AddStuckCallDetection();
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "VoiceKraliki call-state";
            document.Info.Description = "Calls and their state; see docs/call-state-api.md.";
            return Task.CompletedTask;
        }));
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
        builder.AddOutbox(types => types.Add<CallStateChanged>());
        builder.Services.AddSingleton<CallEventProcessor>();

        // Told about every commit, in this order: metrics first, as they cost nothing; Redis may wait on its timeout.
        builder.Services.AddSingleton<CallMetrics>();
        builder.Services.AddSingleton<ICallCommitObserver>(sp => sp.GetRequiredService<CallMetrics>());
        builder.Services.AddSingleton<ICallCommitObserver>(sp => sp.GetRequiredService<CallCache>());
    }

    /// <summary>The Redis fast tier (snapshots, live calls, session maps) behind the reads, rebuilt from Postgres.</summary>
    private static void AddCallFastTier(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<CallCacheOptions>(CallCacheOptions.SectionName);
        builder.Services.AddSingleton<CallQueries>();
        builder.Services.AddSingleton<CallCache>();
        builder.Services.AddHostedService<CallCacheMonitor>();
    }

    /// <summary>Flags live calls without updates for too long; no provider adapter (IProviderCallReconciler) is registered yet.</summary>
    private static void AddStuckCallDetection(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<ReconciliationOptions>(ReconciliationOptions.SectionName);
        builder.Services.AddHostedService<StuckCallDetector>();
    }
}
