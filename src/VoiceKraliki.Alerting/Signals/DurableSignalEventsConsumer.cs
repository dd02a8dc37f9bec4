using MassTransit;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Alerting.Signals;

/// <summary>
/// Keeps the events whose signals must survive a restart (compliance violations, data-subject requests at risk, and
/// provider health, which changes rarely and holds until it changes) in Postgres, from a durable queue shared by the
/// replicas (<c>durable-signal-events</c>: one replica takes each event, and none is lost while all are down). The
/// replica that took it counts it at once; the others load it within <see cref="SignalOptions.DurableRefreshInterval"/>
/// (<see cref="SignalEventsRefresher"/>). Idempotent by event id; a failure to store is retried, then dead-lettered.
/// </summary>
public sealed partial class DurableSignalEventsConsumer(SignalStore store, SignalEventLog log, ILogger<DurableSignalEventsConsumer> logger) :
    IConsumer<ComplianceViolationDetected>,
    IConsumer<DataSubjectRequestEndangered>,
    IConsumer<ProviderHealthChanged>
{
    public Task Consume(ConsumeContext<ComplianceViolationDetected> context)
    {
        LogViolation(logger, context.Message.Type, context.Message.Region ?? "-", context.Message.EventId);
        return KeepAsync(store.ToDurable(context.Message), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<DataSubjectRequestEndangered> context)
    {
        LogRequestAtRisk(logger, context.Message.Kind, context.Message.RequestId, context.Message.DueBy);
        return KeepAsync(store.ToDurable(context.Message), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<ProviderHealthChanged> context)
    {
        var e = context.Message;
        if (store.ToDurable(e) is not { } durable)
        {
            LogUnknownHealthStatus(logger, e.Provider, e.Status);
            return Task.CompletedTask;
        }

        LogProviderHealth(logger, e.Provider, e.Status, durable.Value);
        return KeepAsync(durable, context.CancellationToken);
    }

    private async Task KeepAsync(DurableSignalEvent e, CancellationToken cancellationToken)
    {
        // What Postgres holds wins: a redelivered event keeps the time it was first counted at.
        var kept = await log.SaveAsync(e, cancellationToken);
        store.Record(kept);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Compliance violation {Type} ({Region}) counted, event {EventId}")]
    private static partial void LogViolation(ILogger logger, string type, string region, Guid eventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Data-subject {Kind} request {RequestId} at risk (due {DueBy:O}) counted")]
    private static partial void LogRequestAtRisk(ILogger logger, string kind, Guid requestId, DateTimeOffset dueBy);

    [LoggerMessage(Level = LogLevel.Information, Message = "Provider {Provider} is {Status}: provider_health {Value}")]
    private static partial void LogProviderHealth(ILogger logger, TelephonyProvider provider, string status, double value);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider {Provider} health status '{Status}' is not one we know (healthy, degraded, unavailable, down); ignored")]
    private static partial void LogUnknownHealthStatus(ILogger logger, TelephonyProvider provider, string status);
}
