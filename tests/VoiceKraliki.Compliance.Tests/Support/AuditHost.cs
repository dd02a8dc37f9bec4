using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using VoiceKraliki.Compliance.Apis;
using VoiceKraliki.Compliance.Audit;
using VoiceKraliki.ServiceDefaults.Auth;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.Compliance.Tests.Support;

/// <summary>
/// The compliance service's audit log and API on a test server, wired as the service wires them
/// (<c>AddServiceDefaults</c>, <c>AddPostgres</c>, <c>AddMigrations</c>, <c>AddAuditLog</c>, <c>MapDefaultEndpoints</c>,
/// <c>MapAuditApi</c>), over one test's own database.
/// </summary>
public sealed class AuditHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AuditHost(WebApplication app) => _app = app;

    public IServiceProvider Services => _app.Services;

    public AuditLog Log => Services.GetRequiredService<AuditLog>();

    public static async Task<AuditHost> StartAsync(ComplianceInfrastructure infrastructure, TestDatabase database, TimeProvider? time = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = Environments.Development });
        builder.WebHost.UseTestServer();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:postgres-compliance"] = database.ConnectionString,
            ["ConnectionStrings:redis"] = infrastructure.Redis,
            ["ConnectionStrings:messaging"] = infrastructure.Messaging,
            ["Auth:ApiKeys:0:Key"] = ComplianceInfrastructure.TestApiKey,
            ["Auth:ApiKeys:0:Roles"] = Roles.ComplianceOfficer,
            ["Auth:ApiKeys:1:Key"] = ComplianceInfrastructure.OperatorApiKey,
            ["Auth:ApiKeys:1:Roles"] = Roles.Operator,
            ["Auth:ApiKeys:2:Key"] = ComplianceInfrastructure.AdminApiKey,
            ["Auth:ApiKeys:2:Roles"] = Roles.Admin,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:VoiceKraliki.Compliance.Audit.AuditLog"] = "None",
        });
        builder.AddServiceDefaults();
        if (time is not null)
        {
            builder.Services.Replace(ServiceDescriptor.Singleton(time));
        }

        builder.AddPostgres("postgres-compliance");
        builder.AddMigrations(typeof(AuditLog).Assembly);
        builder.AddAuditLog();

        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapAuditApi();
        var host = new AuditHost(app);
        try
        {
            await app.StartAsync();
            await app.Services.GetRequiredService<MigrationRunner>().Completion.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return host;
    }

    /// <summary>An HTTP client of the test server, sending <paramref name="apiKey"/> (none when null).</summary>
    public HttpClient CreateClient(string? apiKey = ComplianceInfrastructure.TestApiKey)
    {
        var client = _app.GetTestClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.HeaderName, apiKey);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>An <see cref="AuditLog"/> with a connection pool of its own, as another replica of the service would have.</summary>
public sealed class AuditReplica : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;

    private AuditReplica(NpgsqlDataSource dataSource, TimeProvider time)
    {
        _dataSource = dataSource;
        Log = new AuditLog(dataSource, time, NullLogger<AuditLog>.Instance);
    }

    public AuditLog Log { get; }

    public NpgsqlDataSource DataSource => _dataSource;

    /// <summary>A replica over <paramref name="database"/>, with the service's migrations applied.</summary>
    public static async Task<AuditReplica> StartAsync(TestDatabase database, TimeProvider? time = null)
    {
        var replica = new AuditReplica(NpgsqlDataSource.Create(database.ConnectionString), time ?? TimeProvider.System);
        using var runner = new MigrationRunner(
            replica._dataSource, new MigrationSource(typeof(AuditLog).Assembly), NullLogger<MigrationRunner>.Instance, TimeProvider.System);
        await runner.ApplyAsync(CancellationToken.None);
        return replica;
    }

    public async ValueTask DisposeAsync()
    {
        Log.Dispose();
        await _dataSource.DisposeAsync();
    }
}
