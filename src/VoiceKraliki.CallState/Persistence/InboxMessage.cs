namespace VoiceKraliki.CallState.Persistence;

/// <summary>A row of <c>inbox_messages</c> (migration 0001): an event a consumer has already handled.</summary>
public sealed class InboxMessage
{
    public Guid EventId { get; set; }

    public required string Consumer { get; set; }

    public DateTimeOffset ProcessedAt { get; set; }
}
