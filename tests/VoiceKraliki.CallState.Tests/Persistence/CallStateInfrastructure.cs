extern alias apphost;

using System.Collections.Concurrent;
using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Messaging;
using apphost::VoiceKraliki.AppHost;
using apphost::VoiceKraliki.AppHost.Testing;

namespace VoiceKraliki.CallState.Tests.Persistence;

/// <summary>
/// The real Postgres and RabbitMQ (with Redis, which the service also needs) the AppHost starts, for the whole
/// collection, and one listener on the real broker that records every <see cref="CallStateChanged"/> published.
/// </summary>
public sealed class CallStateInfrastructure : IAsyncLifetime
{
    public const string TestApiKey = "vk_test_0123456789abcdef";

    private IHost? _listener;

    public DistributedApplication App { get; private set; } = null!;

    public string Postgres => App.GetConnectionString("postgres-call-state");

    public string Messaging => App.GetConnectionString("messaging");

    public string Redis => App.GetConnectionString("redis");

    /// <summary>Every CallStateChanged the broker delivered, from any test (filter by call id).</summary>
    public PublishedStateChanges Published { get; } = new();

    public async Task InitializeAsync()
    {
        App = await DistributedApplicationTestingBuilder.StartInfrastructureAsync();

        _listener = BuildListener();
        await _listener.StartAsync();
        await WaitUntilHealthyAsync(_listener.Services, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        if (_listener is not null)
        {
            await _listener.StopAsync();
            _listener.Dispose();
        }

        await App.DisposeAsync();
    }

    public static Task WaitUntilHealthyAsync(IServiceProvider services, TimeSpan within) => HealthWait.UntilHealthyAsync(services, within);

    private IHost BuildListener()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Development });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = Messaging,
            ["Auth:ApiKeys:0:Key"] = TestApiKey,
            ["Auth:ApiKeys:0:Roles"] = "admin",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults();
        builder.Services.AddSingleton(Published);
        // A durable queue of its own: it keeps the binding (and anything published meanwhile) while a test
        // restarts the broker.
        builder.AddEventBus(bus => bus.AddConsumer<RecordingConsumer>().Endpoint(e => e.Name = "call-state-tests-published"));
        return builder.Build();
    }

    private sealed class RecordingConsumer(PublishedStateChanges published) : IConsumer<CallStateChanged>
    {
        public Task Consume(ConsumeContext<CallStateChanged> context)
        {
            published.Add(context.Message, context.MessageId);
            return Task.CompletedTask;
        }
    }
}

/// <summary>What the broker delivered, with how often each event id came.</summary>
public sealed class PublishedStateChanges
{
    private readonly ConcurrentQueue<(CallStateChanged Message, Guid? MessageId)> _all = new();

    public void Add(CallStateChanged message, Guid? messageId) => _all.Enqueue((message, messageId));

    public IReadOnlyList<CallStateChanged> ForCalls(IReadOnlySet<string> providerCallIds) =>
        [.. _all.Where(m => providerCallIds.Contains(m.Message.ProviderCallId)).Select(m => m.Message)];

    public IReadOnlyList<CallStateChanged> ForCall(string providerCallId) => ForCalls(new HashSet<string> { providerCallId });

    public IReadOnlyList<Guid?> MessageIdsOf(Guid eventId) => [.. _all.Where(m => m.Message.EventId == eventId).Select(m => m.MessageId)];

    /// <summary>Waits until <paramref name="count"/> distinct events of these calls have arrived.</summary>
    public async Task<IReadOnlyList<CallStateChanged>> WaitForAsync(IReadOnlySet<string> providerCallIds, int count, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var received = ForCalls(providerCallIds);
            if (received.Select(m => m.EventId).Distinct().Count() >= count)
            {
                return received;
            }

            if (watch.Elapsed > within)
            {
                throw new Xunit.Sdk.XunitException($"{received.Count} of {count} CallStateChanged arrived within {within.TotalSeconds} s.");
            }

            await Task.Delay(50);
        }
    }
}

/// <summary>Tests on the real servers run one at a time: one of them stops the broker, and the machine has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CallStateInfrastructureCollection : ICollectionFixture<CallStateInfrastructure>
{
    public const string Name = "Real Postgres and RabbitMQ";
}
