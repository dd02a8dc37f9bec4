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

namespace VoiceKraliki.MediaBridge.Tests.Support;

/// <summary>
/// The real RabbitMQ (with the rest of the infrastructure) the AppHost starts, one listener on it that records every
/// media event published, and a media-bridge connected to it with a short report interval.
/// </summary>
public sealed class MediaBridgeInfrastructure : IAsyncLifetime
{
    private IHost? _listener;

    public DistributedApplication App { get; private set; } = null!;

    public PublishedMediaEvents Published { get; } = new();

    public TestSinks Sinks { get; } = new();

    public MediaBridgeFactory Bridge { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = await DistributedApplicationTestingBuilder.StartInfrastructureAsync();

        var messaging = App.GetConnectionString("messaging");
        _listener = BuildListener(messaging);
        await _listener.StartAsync();
        await HealthWait.UntilHealthyAsync(_listener.Services, TimeSpan.FromSeconds(60));

        Bridge = new MediaBridgeFactory(
            new Dictionary<string, string?>
            {
                ["ConnectionStrings:messaging"] = messaging,
                ["MediaStreams:ReportInterval"] = "00:00:01",
                ["MediaStreams:PublishTimeout"] = "00:00:10",
            },
            services =>
            {
                foreach (var factory in Sinks.Factories())
                {
                    services.AddSingleton(factory);
                }
            });
        _ = Bridge.Address;
        await HealthWait.UntilHealthyAsync(Bridge.Services, TimeSpan.FromSeconds(60));
    }

    public async Task DisposeAsync()
    {
        if (Bridge is not null)
        {
            await Bridge.DisposeAsync();
        }

        if (_listener is not null)
        {
            await _listener.StopAsync();
            _listener.Dispose();
        }

        await App.DisposeAsync();
    }

    private IHost BuildListener(string messaging)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Development });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = messaging,
            ["Auth:ApiKeys:0:Key"] = "vk_test_0123456789abcdef",
            ["Auth:ApiKeys:0:Roles"] = "admin",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults();
        builder.Services.AddSingleton(Published);
        builder.AddEventBus(bus => bus.AddConsumer<RecordingConsumer>().Endpoint(e => e.Name = "media-bridge-tests-published"));
        return builder.Build();
    }

    private sealed class RecordingConsumer(PublishedMediaEvents published)
        : IConsumer<MediaStreamStarted>, IConsumer<MediaQualityReported>, IConsumer<MediaStreamEnded>
    {
        public Task Consume(ConsumeContext<MediaStreamStarted> context) => published.Add(context.Message);

        public Task Consume(ConsumeContext<MediaQualityReported> context) => published.Add(context.Message);

        public Task Consume(ConsumeContext<MediaStreamEnded> context) => published.Add(context.Message);
    }
}

/// <summary>Every media event the broker delivered, from any test (filter by call id).</summary>
public sealed class PublishedMediaEvents
{
    private readonly ConcurrentQueue<IIntegrationEvent> _all = new();

    public Task Add(IIntegrationEvent message)
    {
        _all.Enqueue(message);
        return Task.CompletedTask;
    }

    public IReadOnlyList<IIntegrationEvent> ForCall(string callId) => [.. _all.Where(m => m.CorrelationId == callId)];

    public async Task<IReadOnlyList<IIntegrationEvent>> WaitForAsync(string callId, Func<IReadOnlyList<IIntegrationEvent>, bool> done, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var events = ForCall(callId);
            if (done(events))
            {
                return events;
            }

            if (watch.Elapsed > within)
            {
                throw new TimeoutException($"{events.Count} events of call {callId}: {string.Join(", ", events.Select(e => e.GetType().Name))}");
            }

            await Task.Delay(50);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class MediaBridgeInfrastructureCollection : ICollectionFixture<MediaBridgeInfrastructure>
{
    public const string Name = "media-bridge on the real broker";
}
