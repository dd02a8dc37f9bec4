extern alias apphost;

using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Compliance.Tests.Support;
using VoiceKraliki.ServiceDefaults.Auth;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.Compliance.Tests.Consent;

/// <summary>The real compliance service (its own Program) over one test's database and the real Redis and RabbitMQ.</summary>
public sealed class ComplianceServiceHost : IAsyncDisposable
{
    public const string ServiceApiKey = "vk_test_service_0123456789abcd";

    private readonly WebApplicationFactory<Program> _factory;

    private readonly bool _ownsDatabase;

    private ComplianceServiceHost(WebApplicationFactory<Program> factory, TestDatabase database, bool ownsDatabase)
    {
        _factory = factory;
        Database = database;
        _ownsDatabase = ownsDatabase;
    }

    public TestDatabase Database { get; }

    public IServiceProvider Services => _factory.Services;

    /// <summary>
    /// Starts the service on a new database, or on <paramref name="database"/> (a restart: the caller keeps it), with
    /// <paramref name="overrides"/> on top of the test settings.
    /// </summary>
    public static Task<ComplianceServiceHost> StartAsync(
        ComplianceInfrastructure infrastructure, TestDatabase? database = null, params (string Key, string? Value)[] overrides) =>
        StartAsync(infrastructure, clock: null, database, overrides);

    /// <summary>As above, with <paramref name="clock"/> (when not null) as the service's <see cref="TimeProvider"/>.</summary>
    public static async Task<ComplianceServiceHost> StartAsync(
        ComplianceInfrastructure infrastructure, TimeProvider? clock, TestDatabase? database, params (string Key, string? Value)[] overrides)
    {
        var ownsDatabase = database is null;
        database ??= await infrastructure.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:postgres-compliance"] = database.ConnectionString,
            ["ConnectionStrings:redis"] = infrastructure.Redis,
            ["ConnectionStrings:messaging"] = infrastructure.Messaging,
            ["Compliance:SubjectKey"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
            ["Auth:ApiKeys:0:Key"] = ComplianceInfrastructure.TestApiKey,
            ["Auth:ApiKeys:0:Roles"] = Roles.ComplianceOfficer,
            ["Auth:ApiKeys:1:Key"] = ComplianceInfrastructure.OperatorApiKey,
            ["Auth:ApiKeys:1:Roles"] = Roles.Operator,
            ["Auth:ApiKeys:2:Key"] = ServiceApiKey,
            ["Auth:ApiKeys:2:Roles"] = Roles.Service,
            ["Outbox:PollInterval"] = "00:00:00.200",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (key, value) in settings)
            {
                web.UseSetting(key, value);
            }

            if (clock is not null)
            {
                web.ConfigureTestServices(services => services.AddSingleton(clock));
            }
        });
        var host = new ComplianceServiceHost(factory, database, ownsDatabase);
        try
        {
            _ = factory.Server;
            await factory.Services.GetRequiredService<MigrationRunner>().Completion.WaitAsync(TimeSpan.FromSeconds(60));

            // The bus starts in the background (the service must start while the broker is down): until its receive
            // endpoints have bound their queues, an event published by the service itself would find no queue.
            await apphost::VoiceKraliki.AppHost.Testing.HealthWait.UntilHealthyAsync(factory.Services, TimeSpan.FromSeconds(60));
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return host;
    }

    public HttpClient CreateClient(string? apiKey = ComplianceInfrastructure.TestApiKey)
    {
        var client = _factory.CreateClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add(ApiKeyAuthenticationHandler.HeaderName, apiKey);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        if (_ownsDatabase)
        {
            await Database.DisposeAsync();
        }
    }
}
