using MassTransit;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using VoiceKraliki.Compliance.Apis;
using VoiceKraliki.Compliance.Audit;
using VoiceKraliki.Compliance.Consent;
using VoiceKraliki.Compliance.Decisions;
using VoiceKraliki.Compliance.Regions;
using VoiceKraliki.Compliance.Requests;
using VoiceKraliki.Compliance.Retention;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Auth;
using VoiceKraliki.ServiceDefaults.Data;
using VoiceKraliki.ServiceDefaults.Messaging;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;
using VoiceKraliki.ServiceDefaults.Redis;

namespace VoiceKraliki.Compliance.Extensions;

internal static class Extensions
{
    public const string DatabaseConnectionName = "postgres-compliance";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<ComplianceOptions>(ComplianceOptions.SectionName);
        builder.AddValidatedOptions<RetentionOptions>(RetentionOptions.SectionName);
        builder.AddValidatedOptions<RetentionSweepOptions>(RetentionSweepOptions.SectionName);
        builder.AddValidatedOptions<RequestOptions>(RequestOptions.SectionName);
        builder.AddPostgres(DatabaseConnectionName);
        builder.AddMigrations(typeof(Extensions).Assembly, OutboxSchema.Migration("0004_outbox"));
        // Only the decision cache is in Redis: without it decisions come from Postgres, so the service is degraded, not down.
        builder.AddRedis(failureStatus: HealthStatus.Degraded);
        builder.AddEventBus(bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.AddOutbox(types => types
            .Add<ConsentChanged>()
            .Add<DataErasureRequested>()
            .Add<DataExportRequested>()
            .Add<DataSubjectRequestEndangered>()
            .Add<RetentionExpired>()
            .Add<ComplianceViolationDetected>());
        builder.AddAuditLog();

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(ConsentApi.ReadPolicy, p => p.RequireRole(Roles.Service, Roles.ComplianceOfficer, Roles.Admin));

        // Consent and the decisions made from it.
        builder.Services.AddSingleton(RegionDirectory.Shared);
        builder.Services.AddSingleton<DecisionCache>();
        builder.Services.AddSingleton<ConsentStore>();
        builder.Services.AddSingleton<DecisionService>();

        // Retention policies: in force from configuration, audited when they change.
        builder.Services.AddSingleton<PolicyRegistry>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PolicyRegistry>());

        // Retention enforced: an inventory of what each call left, and sweeps (one instance at a time) that send what
        // is past its policy to the services holding it.
        builder.Services.AddSingleton<RetentionInventory>();
        builder.Services.AddSingleton<RetentionSweeps>();
        builder.Services.AddSingleton<RetentionSweeper>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RetentionSweeper>());

        // Data-subject requests across the services, and their deadlines.
        builder.Services.AddSingleton<RequestStore>();
        builder.Services.AddHostedService<RequestDeadlineMonitor>();
    }
}
