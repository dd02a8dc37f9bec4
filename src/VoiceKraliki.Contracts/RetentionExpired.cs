namespace VoiceKraliki.Contracts;

/// <summary>
/// Data reached the end of its retention period: whoever holds it deletes or anonymizes it (<see cref="Action"/>) and
/// answers with <see cref="RetentionEnforced"/>. Published by compliance's retention sweep, one per call and category;
/// <c>ResourceId</c> is the provider's call id.
/// </summary>
public sealed record RetentionExpired(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    string DataCategory,
    string Region,
    string ResourceId,
    DateTimeOffset RetainedUntil,
    string Action,
    Guid SweepId) : IIntegrationEvent;

/// <summary>
/// A holder deleted or anonymized what a <see cref="RetentionExpired"/> named. Its event id is derived from the
/// service and the retention event's id (<see cref="IdFor"/>), so answering a redelivery twice is one answer.
/// </summary>
public sealed record RetentionEnforced(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    Guid RetentionEventId,
    string Service,
    string DataCategory,
    string ResourceId,
    string Action,
    int ItemsAffected) : IIntegrationEvent
{
    /// <summary>The answer's id: the same for the same service and retention event, every time.</summary>
    public static Guid IdFor(string service, Guid retentionEventId) =>
        NameBasedGuid.Create($"{service}/retention-enforced/{retentionEventId:D}");
}

/// <summary>The categories of data retention policies cover (<c>DataCategory</c> of the retention events).</summary>
public static class DataCategories
{
    /// <summary>Call audio: our recordings (media-bridge) and the provider's.</summary>
    public const string Recording = "recording";

    /// <summary>Transcripts of call audio.</summary>
    public const string Transcript = "transcript";

    /// <summary>The call record: who called whom, when, how it ended (call-state).</summary>
    public const string CallMetadata = "call_metadata";
}

/// <summary>What a holder does with expired data (<c>Action</c> of the retention events).</summary>
public static class RetentionActions
{
    /// <summary>Remove it entirely.</summary>
    public const string Delete = "delete";

    /// <summary>Keep the record with the phone numbers masked and personal details removed.</summary>
    public const string Anonymize = "anonymize";
}
