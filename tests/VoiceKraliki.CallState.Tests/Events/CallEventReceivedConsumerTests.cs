using System.Diagnostics;
using MassTransit;
using RabbitMQ.Client;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;
using Xunit.Abstractions;

namespace VoiceKraliki.CallState.Tests.Events;

/// <summary>Call events through the real broker into the service's consumer.</summary>
[Collection(CallStateInfrastructureCollection.Name)]
public sealed class CallEventReceivedConsumerTests(CallStateInfrastructure infrastructure, ITestOutputHelper output)
{
    private const string Queue = "call-event-received";

    [Fact]
    public async Task A_thousand_event_stream_published_twice_shuffled_ends_as_in_order_with_one_transition_per_event()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await host.WaitUntilHealthyAsync();
        var calls = CallEventStreams.Generate(Guid.NewGuid().ToString("N")[..10], 1000, 20250602);
        var distinct = CallEventStreams.InArrivalOrder(calls);
        var deliveries = CallEventStreams.Shuffled(distinct.Concat(distinct), 7);

        var watch = Stopwatch.StartNew();
        var bus = host.Bus;
        foreach (var chunk in deliveries.Chunk(50))
        {
            await Task.WhenAll(chunk.Select(e => bus.Publish(e)));
        }

        var callIds = calls.Select(c => c.ProviderCallId).ToList();
        await CallEventProcessorTests.Eventually(async () => (await host.TransitionsAsync(callIds)).Count >= distinct.Count, seconds: 120);
        output.WriteLine($"{deliveries.Count} deliveries through the bus applied in {watch.Elapsed.TotalSeconds:F1} s");
        await WaitUntilDrainedAsync(TimeSpan.FromSeconds(60));

        await CallStateAssertions.AssertExactlyOnceAsync(host, distinct);
        var expected = CallStateAssertions.FoldInOrder(distinct);
        var stored = await host.CallsAsync(callIds);
        Assert.All(expected, p => Assert.Equal(CallStateAssertions.FinalState(p.Value), CallStateAssertions.FinalState(stored[p.Key].ToSnapshot())));
    }

    [Fact]
    public async Task A_call_event_that_cannot_be_processed_is_retried_then_moved_to_the_error_queue()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure,
            ("EventBus:RetryIntervals:0", "10"), ("EventBus:RetryIntervals:1", "10"));
        await host.WaitUntilHealthyAsync();
        var valid = CallEventStreams.Twilio(new Random(5), CallEventStreams.TwilioId(Guid.NewGuid().ToString("N")[..10], 0), CallEventStreams.Now(), CallEventStreams.TwilioScenario.Failed)[0];
        var broken = valid with { EventId = Guid.NewGuid(), ProviderCallId = string.Empty };

        await host.Bus.Publish(broken);

        var body = await GetFromQueueAsync(Queue + "_error", broken.EventId, TimeSpan.FromSeconds(30));
        Assert.Contains(broken.EventId.ToString(), body, StringComparison.Ordinal);
        await using var db = host.NewDbContext();
        Assert.False(db.InboxMessages.Any(i => i.EventId == broken.EventId));
    }

    private async Task<IConnection> ConnectAsync()
    {
        var address = new Uri(infrastructure.Messaging);
        var user = address.UserInfo.Split(':', 2);
        var factory = new ConnectionFactory
        {
            HostName = address.Host,
            Port = address.Port,
            UserName = Uri.UnescapeDataString(user[0]),
            Password = Uri.UnescapeDataString(user[1]),
        };
        return await factory.CreateConnectionAsync();
    }

    private async Task WaitUntilDrainedAsync(TimeSpan within)
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        var watch = Stopwatch.StartNew();
        while ((await channel.QueueDeclarePassiveAsync(Queue)).MessageCount > 0)
        {
            Assert.True(watch.Elapsed < within, $"{Queue} still has messages after {within.TotalSeconds} s");
            await Task.Delay(100);
        }
    }

    private async Task<string> GetFromQueueAsync(string queue, Guid eventId, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < within)
        {
            try
            {
                await using var connection = await ConnectAsync();
                await using var channel = await connection.CreateChannelAsync();
                while (await channel.BasicGetAsync(queue, autoAck: false) is { } message)
                {
                    var body = System.Text.Encoding.UTF8.GetString(message.Body.Span);
                    if (body.Contains(eventId.ToString(), StringComparison.Ordinal))
                    {
                        await channel.BasicAckAsync(message.DeliveryTag, multiple: false);
                        return body;
                    }
                }
            }
            catch (RabbitMQ.Client.Exceptions.OperationInterruptedException)
            {
                // The error queue is declared when MassTransit moves the first fault there; until then, 404.
            }

            await Task.Delay(200);
        }

        throw new Xunit.Sdk.XunitException($"Event {eventId} did not arrive in {queue} within {within.TotalSeconds} s.");
    }
}
