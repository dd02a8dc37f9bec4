namespace VoiceKraliki.CallState.Persistence;

/// <summary>A row of <c>outbox_messages</c>: an integration event committed with the change it announces, published by the relay.</summary>
public sealed class OutboxMessage
{
    /// <summary>Also the event's <c>EventId</c> and the bus message id, so consumers can de-duplicate.</summary>
    public Guid Id { get; set; }

    /// <summary>A name from <see cref="OutboxMessageTypes"/>.</summary>
    public required string Type { get; set; }

    /// <summary>The event as JSON (<c>jsonb</c>).</summary>
    public required string Payload { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? PublishedAt { get; set; }

    public int Attempts { get; set; }

    public string? LastError { get; set; }

    public DateTimeOffset? NextAttemptAt { get; set; }
}
