extern alias apphost;

using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using VoiceKraliki.Compliance.Tests.Support;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Messaging;

namespace VoiceKraliki.Compliance.Tests.Retention;

/// <summary>
/// The other side of retention on the real broker, for compliance's own tests: publishes the call events and media
/// streams the providers and media-bridge would, and stands in for the services holding the data — it takes each
/// <see cref="RetentionExpired"/> and, unless <see cref="Silent"/>, answers for the holder of that category (media-bridge
/// for recordings, call-state for call records) as they do. The real holders answer in the integration tests.
/// </summary>
internal sealed class RetentionHolders : IAsyncDisposable
{
    private readonly IHost _host;

    private RetentionHolders(IHost host) => _host = host;

    public ConcurrentQueue<RetentionExpired> Received => _host.Services.GetRequiredService<State>().Received;

    /// <summary>While true, events are taken but not answered (a holder that is down or lost its answer).</summary>
    public bool Silent
    {
        get => _host.Services.GetRequiredService<State>().Silent;
        set => _host.Services.GetRequiredService<State>().Silent = value;
    }

    public IBus Bus => _host.Services.GetRequiredService<IBus>();

    public static async Task<RetentionHolders> StartAsync(ComplianceInfrastructure infrastructure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Development });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = infrastructure.Messaging,
            ["Auth:ApiKeys:0:Key"] = ComplianceInfrastructure.AdminApiKey,
            ["Auth:ApiKeys:0:Roles"] = "admin",
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddServiceDefaults();
        builder.Services.AddSingleton<State>();
        builder.AddEventBus(bus => bus.AddConsumer<Holder>().Endpoint(e => e.Name = "compliance-tests-retention-holders"));
        var host = builder.Build();
        await host.StartAsync();
        var holders = new RetentionHolders(host);
        try
        {
            await apphost::VoiceKraliki.AppHost.Testing.HealthWait.UntilHealthyAsync(host.Services, TimeSpan.FromSeconds(60));
        }
        catch
        {
            await holders.DisposeAsync();
            throw;
        }

        return holders;
    }

    /// <summary>The events received for a call, in arrival order.</summary>
    public IReadOnlyList<RetentionExpired> For(string callId) => [.. Received.Where(e => e.ResourceId == callId)];

    /// <summary>A call's events as a provider would send them: initiated, answered and, <paramref name="ended"/>, completed.</summary>
    public async Task CallAsync(string callId, string? from, string? to, DateTimeOffset at, bool ended = true, string? providerRecording = null)
    {
        var statuses = ended ? new[] { CallStatus.Initiated, CallStatus.Answered, CallStatus.Completed } : [CallStatus.Initiated, CallStatus.Answered];
        for (var i = 0; i < statuses.Length; i++)
        {
            var recording = providerRecording is not null && statuses[i] == CallStatus.Completed
                ? new CallRecording(providerRecording, "https://api.twilio.com/recordings/" + providerRecording, 12.5, "completed")
                : null;
            await Bus.Publish(new CallEventReceived(
                Guid.NewGuid(), at.AddSeconds(i * 10), callId, TelephonyProvider.Twilio, callId, null, "status", statuses[i].ToString().ToLowerInvariant(),
                statuses[i], statuses[i] == CallStatus.Completed ? CallEndReason.Normal : CallEndReason.None, from, to, CallDirection.Inbound,
                i, null, null, at.AddSeconds(i * 10), new Dictionary<string, string>(), Recording: recording));
        }
    }

    /// <summary>A media stream of the call started (media-bridge's event).</summary>
    public Task StreamAsync(string callId, DateTimeOffset at) => Bus.Publish(new MediaStreamStarted(
        Guid.NewGuid(), at, callId, TelephonyProvider.Twilio, "MZ" + Guid.NewGuid().ToString("N"), "audio/x-mulaw", 8000, 1, ["inbound"], callId));

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    private sealed class State
    {
        public ConcurrentQueue<RetentionExpired> Received { get; } = new();

        public volatile bool Silent;
    }

    private sealed class Holder(State state) : IConsumer<RetentionExpired>
    {
        public async Task Consume(ConsumeContext<RetentionExpired> context)
        {
            var e = context.Message;
            state.Received.Enqueue(e);
            if (state.Silent)
            {
                return;
            }

            var service = e.DataCategory == DataCategories.Recording ? "media-bridge" : "call-state";
            await context.Publish(new RetentionEnforced(
                RetentionEnforced.IdFor(service, e.EventId), DateTimeOffset.UtcNow, e.CorrelationId, e.EventId, service, e.DataCategory,
                e.ResourceId, e.DataCategory == DataCategories.Recording ? RetentionActions.Delete : e.Action, 1));
        }
    }
}
