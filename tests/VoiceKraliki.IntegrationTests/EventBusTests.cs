using System.Collections.Concurrent;
using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using VoiceKraliki.Contracts;
using VoiceKraliki.IntegrationTests.Support;
using VoiceKraliki.ServiceDefaults.Messaging;

namespace VoiceKraliki.IntegrationTests;

/// <summary>
/// Two hosts built the way every service is (<c>AddServiceDefaults</c> + <c>AddEventBus</c>) on the real
/// RabbitMQ: one publishes, the other consumes, and the trace id travels with the message.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class EventBusTests(SystemFixture system)
{
    [Fact]
    public async Task An_event_published_by_one_service_is_consumed_by_another_with_the_trace_id_carried()
    {
        var sink = new ReceivedEvents();
        using var consumer = BuildHost(bus => bus.AddConsumer<RecordingConsumer>(), sink);
        using var publisher = BuildHost(_ => { }, sink: null);
        await consumer.StartAsync();
        await publisher.StartAsync();
        try
        {
            await WaitUntilHealthyAsync(consumer);
            await WaitUntilHealthyAsync(publisher);

            var published = NewEvent();
            using var origin = new Activity("webhook-received");
            origin.SetIdFormat(ActivityIdFormat.W3C);
            origin.ActivityTraceFlags = ActivityTraceFlags.Recorded;
            origin.Start();
            await publisher.Services.GetRequiredService<IBus>().Publish(published);
            origin.Stop();
            Activity.Current = null;

            var received = await sink.NextAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(published.EventId, received.Message.EventId);
            Assert.Equal(published.CorrelationId, received.Message.CorrelationId);
            Assert.Equal(published.RawFields, received.Message.RawFields);
            Assert.Equal(origin.TraceId.ToString(), received.TraceId);
            Assert.Contains(received.Headers, h => h.Value.Contains(origin.TraceId.ToString(), StringComparison.Ordinal));
        }
        finally
        {
            await publisher.StopAsync();
            await consumer.StopAsync();
        }
    }

    [Fact]
    public async Task A_message_whose_consumer_keeps_failing_is_retried_then_moved_to_the_error_queue()
    {
        var sink = new ReceivedEvents();
        using var host = BuildHost(bus => bus.AddConsumer<FailingConsumer>(), sink,
            ("EventBus:RetryIntervals:0", "10"), ("EventBus:RetryIntervals:1", "10"));
        await host.StartAsync();
        try
        {
            await WaitUntilHealthyAsync(host);
            var published = NewEvent();
            await host.Services.GetRequiredService<IBus>().Publish(published);

            // The first delivery and two retries, then the _error queue: the message is not lost.
            for (var attempt = 0; attempt < 3; attempt++)
            {
                Assert.Equal(published.EventId, (await sink.NextAsync(TimeSpan.FromSeconds(30))).Message.EventId);
            }

            var body = await GetFromQueueAsync("failing_error", TimeSpan.FromSeconds(15));
            Assert.Contains(published.EventId.ToString(), body, StringComparison.Ordinal);
            Assert.False(sink.TryNext(TimeSpan.FromSeconds(1), out _));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private static CallEventReceived NewEvent()
    {
        var callId = "CA" + Guid.NewGuid().ToString("N");
        return new CallEventReceived(
            Guid.NewGuid(), DateTimeOffset.UtcNow, callId, TelephonyProvider.Twilio, callId, null, "call.initiated",
            "ringing", CallStatus.Ringing, CallEndReason.None, "+15005550006", "+15005550001", CallDirection.Inbound,
            1, null, null, DateTimeOffset.UtcNow, new Dictionary<string, string> { ["CallSid"] = callId, ["CallStatus"] = "ringing" });
    }

    private IHost BuildHost(Action<IBusRegistrationConfigurator> configure, ReceivedEvents? sink, params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = Environments.Development,
        });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = system.App.GetConnectionString("messaging"),
            ["Auth:ApiKeys:0:Key"] = system.App.DevApiKey,
            ["Auth:ApiKeys:0:Roles"] = "service",
        });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.AddServiceDefaults();
        builder.AddEventBus(configure);
        if (sink is not null)
        {
            builder.Services.AddSingleton(sink);
        }

        return builder.Build();
    }

    private static async Task WaitUntilHealthyAsync(IHost host)
    {
        var health = host.Services.GetRequiredService<HealthCheckService>();
        var watch = Stopwatch.StartNew();
        HealthReport report;
        while ((report = await health.CheckHealthAsync()).Status != HealthStatus.Healthy)
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(30))
            {
                Assert.Fail("The bus did not become healthy: " + string.Join("; ", report.Entries.Select(e => $"{e.Key}={e.Value.Status} {e.Value.Description}")));
            }

            await Task.Delay(200);
        }
    }

    private async Task<string> GetFromQueueAsync(string queue, TimeSpan within)
    {
        var address = new Uri(system.App.GetConnectionString("messaging"));
        var user = address.UserInfo.Split(':', 2);
        var factory = new ConnectionFactory
        {
            HostName = address.Host,
            Port = address.Port,
            UserName = Uri.UnescapeDataString(user[0]),
            Password = Uri.UnescapeDataString(user[1]),
        };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < within)
        {
            try
            {
                var message = await channel.BasicGetAsync(queue, autoAck: true);
                if (message is not null)
                {
                    return System.Text.Encoding.UTF8.GetString(message.Body.Span);
                }
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
            {
                // The queue is declared by MassTransit when the first fault is moved; until then the
                // broker closes the channel (404): open a new one and ask again.
                await channel.DisposeAsync();
                return await GetFromQueueAsync(queue, within - watch.Elapsed);
            }

            await Task.Delay(200);
        }

        throw new Xunit.Sdk.XunitException($"Nothing arrived in {queue} within {within.TotalSeconds} s.");
    }

    public sealed record Received(CallEventReceived Message, string? TraceId, IReadOnlyList<KeyValuePair<string, string>> Headers);

    public sealed class ReceivedEvents
    {
        private readonly BlockingCollection<Received> _received = [];

        public void Add(Received received) => _received.Add(received);

        public async Task<Received> NextAsync(TimeSpan within) =>
            await Task.Run(() => TryNext(within, out var next) ? next : throw new Xunit.Sdk.XunitException($"No event within {within.TotalSeconds} s."));

        public bool TryNext(TimeSpan within, out Received next) => _received.TryTake(out next!, within);
    }

    public sealed class RecordingConsumer(ReceivedEvents sink) : IConsumer<CallEventReceived>
    {
        public Task Consume(ConsumeContext<CallEventReceived> context)
        {
            sink.Add(new Received(
                context.Message,
                Activity.Current?.TraceId.ToString(),
                [.. context.Headers.GetAll().Select(h => new KeyValuePair<string, string>(h.Key, h.Value?.ToString() ?? string.Empty))]));
            return Task.CompletedTask;
        }
    }

    public sealed class FailingConsumer(ReceivedEvents sink) : IConsumer<CallEventReceived>
    {
        public Task Consume(ConsumeContext<CallEventReceived> context)
        {
            sink.Add(new Received(context.Message, null, []));
            throw new InvalidOperationException("This consumer always fails.");
        }
    }
}
