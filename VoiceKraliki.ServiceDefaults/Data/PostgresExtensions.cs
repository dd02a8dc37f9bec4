using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace VoiceKraliki.ServiceDefaults.Data;

public static class PostgresExtensions
{
    /// <summary>
    /// Registers an <see cref="NpgsqlDataSource"/> for <c>ConnectionStrings__{connectionName}</c> and a
    /// <c>postgres</c> health check.
    /// </summary>
    public static TBuilder AddPostgres<TBuilder>(this TBuilder builder, string connectionName) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<PostgresOptions>()
            .Configure<IConfiguration>((o, configuration) =>
            {
                o.ConnectionName = connectionName;
                o.ConnectionString = configuration.GetConnectionString(connectionName);
            })
            .Validate(o => IsValidConnectionString(o.ConnectionString),
                $"ConnectionStrings:{connectionName} must be an Npgsql connection string with Host and Database.")
            .ValidateOnStart();

        builder.Services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<PostgresOptions>>().Value;
            var csb = new NpgsqlConnectionStringBuilder(options.ConnectionString)
            {
                // Fail fast so /health and callers notice an outage within seconds.
                Timeout = 5,
                CommandTimeout = 30,
            };
            return new NpgsqlDataSourceBuilder(csb.ConnectionString).Build();
        });

        builder.Services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres", timeout: TimeSpan.FromSeconds(5));
        return builder;
    }

    /// <summary>
    /// Applies the embedded <c>*.sql</c> resources of <paramref name="assembly"/> whose names contain
    /// <c>.Migrations.</c>, in name order, once each, under a Postgres advisory lock so that replicas
    /// starting together do not race. Adds a <c>migrations</c> health check that is unhealthy until done.
    /// </summary>
    public static TBuilder AddMigrations<TBuilder>(this TBuilder builder, Assembly assembly, params Migration[] fromCode) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddSingleton(new MigrationSource(assembly, fromCode));
        builder.Services.AddSingleton<MigrationRunner>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MigrationRunner>());
        builder.Services.AddHealthChecks().AddCheck<MigrationHealthCheck>("migrations");
        return builder;
    }

    private static bool IsValidConnectionString(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return false;
        }

        try
        {
            var csb = new NpgsqlConnectionStringBuilder(connectionString);
            return !string.IsNullOrEmpty(csb.Host) && !string.IsNullOrEmpty(csb.Database);
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}

public sealed class PostgresOptions
{
    public string ConnectionName { get; set; } = string.Empty;

    public string? ConnectionString { get; set; }
}

internal sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            // Pooled connections to a restarted server are dead; drop them so recovery is immediate.
            NpgsqlConnection.ClearAllPools();
            return HealthCheckResult.Unhealthy("PostgreSQL is unreachable.", ex);
        }
    }
}
