using VoiceKraliki.ServiceDefaults.Messaging.Outbox;

namespace VoiceKraliki.CallState.Persistence;

/// <summary>
/// A row of <c>outbox_messages</c>: an integration event committed with the change it announces, published by
/// the shared <see cref="OutboxRelay"/>. The EF Core view of the table, so that the event is saved with the
/// call's other changes; its contents come from <see cref="OutboxWriter.Create{T}"/>.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>Also the event's <c>EventId</c> and the bus message id, so consumers can de-duplicate.</summary>
    public Guid Id { get; set; }

    /// <summary>A name from <see cref="OutboxEventTypes"/>.</summary>
    public required string Type { get; set; }

    /// <summary>The event as JSON (<c>jsonb</c>).</summary>
    public required string Payload { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? PublishedAt { get; set; }

    public int Attempts { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset? NextAttemptAt { get; set; }

    public static OutboxMessage From(OutboxMessageRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        return new OutboxMessage { Id = row.Id, Type = row.Type, Payload = row.Payload, CreatedAt = row.CreatedAt };
    }

    public OutboxMessageRow ToRow() => new(Id, Type, Payload, CreatedAt);
}
