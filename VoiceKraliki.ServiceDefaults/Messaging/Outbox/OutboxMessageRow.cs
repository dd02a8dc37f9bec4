namespace VoiceKraliki.ServiceDefaults.Messaging.Outbox;

/// <summary>
/// An event as an <c>outbox_messages</c> row is written: <paramref name="Id"/> is the event's <c>EventId</c> and
/// becomes the bus message id (consumers de-duplicate by it), <paramref name="Type"/> a name from
/// <see cref="OutboxEventTypes"/>, <paramref name="Payload"/> the event as JSON (<c>jsonb</c>).
/// </summary>
public sealed record OutboxMessageRow(Guid Id, string Type, string Payload, DateTimeOffset CreatedAt);
