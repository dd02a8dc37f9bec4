extern alias apphost;

using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using apphost::VoiceKraliki.AppHost.Testing;
using VoiceKraliki.Alerting.Signals;
using VoiceKraliki.Alerting.Tests.Support;
using VoiceKraliki.ServiceDefaults.Data;
using VoiceKraliki.ServiceDefaults.Messaging;
using static VoiceKraliki.Alerting.Tests.Signals.SignalEvents;

namespace VoiceKraliki.Alerting.Tests.Signals;

/// <summary>
/// The signals as the service wires them (<c>AddSignals</c>, consumers found by <c>AddConsumers</c>) on the real
/// RabbitMQ and Postgres, with two or three replicas in this process.
/// </summary>
[Collection(AlertingInfrastructureCollection.Name)]
public sealed class SignalBusTests(AlertingInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly List<IHost> _replicas = [];
    private TestDatabase _database = null!;

    public async Task InitializeAsync() => _database = await infrastructure.CreateDatabaseAsync();

    public async Task DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.StopAsync();
            replica.Dispose();
        }

        await _database.DisposeAsync();
    }

    private async Task<IHost> StartReplicaAsync()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = infrastructure.Messaging,
            ["ConnectionStrings:postgres-alerting"] = _database.ConnectionString,
            ["Auth:ApiKeys:0:Key"] = "vk_test_0123456789abcdef0123456789",
            ["Auth:ApiKeys:0:Roles"] = "service",
            ["Alerting:Signals:DurableRefreshInterval"] = "00:00:00.2",
            ["Logging:LogLevel:Default"] = "Warning",
        });
        builder.AddServiceDefaults();
        builder.AddPostgres("postgres-alerting");
        builder.AddMigrations(typeof(SignalStore).Assembly);
        builder.AddEventBus(bus => bus.AddConsumers(type => type.Namespace == typeof(SignalStore).Namespace, typeof(SignalStore).Assembly));
        builder.AddSignals();
        var host = builder.Build();
        _replicas.Add(host);
        await host.StartAsync();
        await HealthWait.UntilHealthyAsync(host.Services, TimeSpan.FromSeconds(60));
        return host;
    }

    private static SignalStore Store(IHost replica) => replica.Services.GetRequiredService<SignalStore>();

    private static double? Value(IHost replica, string signal, string? provider = "twilio") =>
        Store(replica).Current(signal, DateTimeOffset.UtcNow)
            .SingleOrDefault(s => provider is null ? s.Labels.Count == 0 : s.Labels.TryGetValue("provider", out var p) && p == provider)?.Value;

    private static async Task Until(Func<bool> condition, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"{what} did not hold within {seconds} s");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Every_replica_gets_every_live_event_on_a_queue_of_its_own()
    {
        var a = await StartReplicaAsync();
        var b = await StartReplicaAsync();
        var bus = a.Services.GetRequiredService<IBus>();

        for (var i = 0; i < 4; i++)
        {
            await bus.Publish(Accepted(DateTimeOffset.UtcNow));
        }

        await bus.Publish(Rejected(DateTimeOffset.UtcNow));

        // Each replica sees all five: a shared queue would have split them and left both under the minimum of five.
        await Until(() => Value(a, SignalNames.WebhookFailureRate) == 0.2, "replica A's webhook failure rate is 1/5");
        await Until(() => Value(b, SignalNames.WebhookFailureRate) == 0.2, "replica B's webhook failure rate is 1/5");
    }

    [Fact]
    public async Task A_request_at_risk_is_kept_by_one_replica_seen_by_the_other_and_by_a_replica_started_later()
    {
        var a = await StartReplicaAsync();
        var b = await StartReplicaAsync();
        await Until(() => Value(a, SignalNames.ComplianceRequestsAtRisk, null) == 0, "replica A is restored");

        await a.Services.GetRequiredService<IBus>().Publish(AtRisk(DateTimeOffset.UtcNow));
        await a.Services.GetRequiredService<IBus>().Publish(Health(DateTimeOffset.UtcNow, "unavailable"));

        await Until(() => Value(a, SignalNames.ComplianceRequestsAtRisk, null) == 1, "replica A counts the request at risk");
        await Until(() => Value(b, SignalNames.ComplianceRequestsAtRisk, null) == 1, "replica B counts the request at risk");
        await Until(() => Value(a, SignalNames.ProviderHealth) == 0 && Value(b, SignalNames.ProviderHealth) == 0, "both see twilio unavailable");
        Assert.Equal(2L, await _database.ScalarAsync<long>("SELECT count(*) FROM signal_events"));

        var later = await StartReplicaAsync();
        await Until(() => Value(later, SignalNames.ComplianceRequestsAtRisk, null) == 1, "a replica started later counts it");
        Assert.Equal(0, Value(later, SignalNames.ProviderHealth));
    }

    [Fact]
    public async Task The_signal_options_are_validated_at_start_naming_the_key()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Alerting:Signals:Windows:call_drop_rate"] = "02:00:00" });
        builder.AddSignals();
        builder.Services.AddSingleton(Npgsql.NpgsqlDataSource.Create(_database.ConnectionString));
        builder.Services.AddSingleton(new MigrationSource(typeof(SignalStore).Assembly));
        builder.Services.AddSingleton<MigrationRunner>();
        using var host = builder.Build();

        var error = await Assert.ThrowsAnyAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Alerting:Signals:Windows:call_drop_rate", error.Message, StringComparison.Ordinal);
    }
}
