using MassTransit;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Alerting.Signals;

/// <summary>
/// Feeds the live signals from the bus: call ends, accepted and rejected webhooks, ingress traffic reports and audio
/// quality. Each replica keeps its own signals in memory, so each needs every event: this consumer reads a queue of its
/// own (see <see cref="SignalEventsConsumerDefinition"/>), not one shared by the replicas.
/// </summary>
public sealed class SignalEventsConsumer(SignalStore store) :
    IConsumer<CallStateChanged>,
    IConsumer<CallEventReceived>,
    IConsumer<WebhookRejected>,
    IConsumer<WebhookTrafficReported>,
    IConsumer<MediaQualityReported>
{
    public Task Consume(ConsumeContext<CallStateChanged> context)
    {
        store.Record(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<CallEventReceived> context)
    {
        store.Record(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<WebhookRejected> context)
    {
        store.Record(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<WebhookTrafficReported> context)
    {
        store.Record(context.Message);
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<MediaQualityReported> context)
    {
        store.Record(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>
/// <see cref="SignalEventsConsumer"/> reads <c>signal-events-{instance}</c>, a temporary queue of this replica's own
/// (deleted when it stops): every replica gets a copy of every event, where a shared queue would split them between
/// the replicas and leave each with part of the picture. What a stopped replica missed, it does not need: its windows
/// are at most an hour long and refill as it runs. (The events that must survive a restart are read from a durable
/// queue instead: <see cref="DurableSignalEventsConsumer"/>.)
/// </summary>
public sealed class SignalEventsConsumerDefinition : ConsumerDefinition<SignalEventsConsumer>
{
    public SignalEventsConsumerDefinition()
    {
        QueueName = "signal-events-" + Guid.NewGuid().ToString("N")[..12];
        Endpoint(e =>
        {
            e.Name = QueueName;
            e.Temporary = true;
        });
    }

    /// <summary>This bus's queue (one bus per replica): <c>signal-events-</c> and a random suffix.</summary>
    public string QueueName { get; }
}
