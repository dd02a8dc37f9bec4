using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.CallState.Events;
using VoiceKraliki.CallState.Persistence;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Data;

namespace VoiceKraliki.CallState.Tests.Persistence;

/// <summary>The real call-state service (its Program, its DI, its hosted services) on the real servers.</summary>
public sealed class CallStateHost : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;

    private CallStateHost(WebApplicationFactory<Program> factory) => _factory = factory;

    public IServiceProvider Services => _factory.Services;

    public CallEventProcessor Processor => Services.GetRequiredService<CallEventProcessor>();

    public IBus Bus => Services.GetRequiredService<IBus>();

    public static Task<CallStateHost> StartAsync(CallStateInfrastructure infrastructure, params (string Key, string? Value)[] settings) =>
        StartAsync(infrastructure, _ => { }, settings);

    /// <summary>With services added or replaced after the service's own (e.g. a test double of a provider adapter).</summary>
    public static async Task<CallStateHost> StartAsync(
        CallStateInfrastructure infrastructure, Action<IServiceCollection> configureServices, params (string Key, string? Value)[] settings)
    {
        var all = new Dictionary<string, string?>
        {
            ["ConnectionStrings:postgres-call-state"] = infrastructure.Postgres,
            ["ConnectionStrings:messaging"] = infrastructure.Messaging,
            ["ConnectionStrings:redis"] = infrastructure.Redis,
            ["Auth:ApiKeys:0:Key"] = CallStateInfrastructure.TestApiKey,
            ["Auth:ApiKeys:0:Roles"] = "admin",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (key, value) in all)
            {
                web.UseSetting(key, value);
            }

            web.ConfigureServices(configureServices);
        });
        var host = new CallStateHost(factory);
        try
        {
            await host.Services.GetRequiredService<MigrationRunner>().Completion.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return host;
    }

    /// <summary>An HTTP client of the in-memory server, sending <paramref name="apiKey"/> (none when null).</summary>
    public HttpClient CreateClient(string? apiKey = CallStateInfrastructure.TestApiKey)
    {
        var client = _factory.CreateClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    public Task WaitUntilHealthyAsync() => CallStateInfrastructure.WaitUntilHealthyAsync(Services, TimeSpan.FromSeconds(60));

    public CallStateDbContext NewDbContext() => Services.GetRequiredService<IDbContextFactory<CallStateDbContext>>().CreateDbContext();

    public async Task<IReadOnlyList<CallEventResult>> ProcessAllAsync(IEnumerable<CallEventReceived> events, CancellationToken cancellationToken = default)
    {
        var results = new List<CallEventResult>();
        foreach (var e in events)
        {
            results.Add(await Processor.ProcessAsync(e, cancellationToken));
        }

        return results;
    }

    public async Task<Dictionary<string, CallRecord>> CallsAsync(IReadOnlyCollection<string> providerCallIds)
    {
        await using var db = NewDbContext();
        var ids = providerCallIds.ToArray();
        return await db.Calls.AsNoTracking().Where(c => ids.Contains(c.ProviderCallId)).ToDictionaryAsync(c => c.ProviderCallId);
    }

    public async Task<List<CallTransitionRecord>> TransitionsAsync(IReadOnlyCollection<string> providerCallIds)
    {
        await using var db = NewDbContext();
        var ids = providerCallIds.ToArray();
        return await db.CallTransitions.AsNoTracking().Where(t => ids.Contains(t.CallId)).OrderBy(t => t.Id).ToListAsync();
    }

    /// <summary>The outbox rows whose CallStateChanged is about one of these calls.</summary>
    public async Task<List<OutboxMessage>> OutboxAsync(IReadOnlyCollection<string> providerCallIds)
    {
        await using var db = NewDbContext();
        var ids = providerCallIds.ToArray();
        return await db.OutboxMessages
            .FromSql($"SELECT * FROM outbox_messages WHERE payload->>'providerCallId' = ANY({ids})")
            .AsNoTracking()
            .OrderBy(o => o.CreatedAt)
            .ToListAsync();
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();
}
