using System.Text.Json;
using System.Text.Json.Serialization;

namespace VoiceKraliki.Compliance.Audit;

/// <summary>
/// What happened, to be appended to the audit log. <paramref name="Subject"/> is the HMAC pseudonym of a phone
/// number (never the number itself); <paramref name="Details"/> is a JSON object (see <see cref="AuditEntryFormat"/>).
/// </summary>
public sealed record AuditRecord(string Kind, string Actor, string? Subject, JsonElement Details)
{
    public AuditRecord(string kind, string actor, string? subject, IReadOnlyDictionary<string, object?> details)
        : this(kind, actor, subject, JsonSerializer.SerializeToElement(details, JsonSerializerOptions.Web))
    {
    }
}

/// <summary>The kinds of entry the compliance service writes; other dotted lowercase kinds are allowed too.</summary>
public static class AuditKinds
{
    public const string ConsentGiven = "consent.given";
    public const string ConsentWithdrawn = "consent.withdrawn";
    public const string Decision = "decision";
    public const string PolicyChanged = "policy.changed";
    public const string RetentionDeleted = "retention.deleted";
    public const string RetentionAnonymized = "retention.anonymized";
    public const string RetentionSwept = "retention.swept";
    public const string RequestStep = "request.step";
}

/// <summary>Where an appended record landed, and the head that covers it. Hashes are lowercase hex.</summary>
public sealed record AuditReceipt(long Seq, DateTimeOffset OccurredAt, string LeafHash, long TreeSize, string RootHash);

/// <summary>The log's digest: its size and Merkle tree head (MTH, lowercase hex), and when that head was computed.</summary>
public sealed record AuditHead(long Size, string RootHash, DateTimeOffset? ComputedAt);

/// <summary>One stored entry as it was appended.</summary>
public sealed record AuditEntry(
    long Seq, DateTimeOffset OccurredAt, string Kind, string Actor, string? Subject, JsonElement Details, string LeafHash);

/// <summary>A page of entries in seq order; <paramref name="Next"/> is the <c>from</c> of the next page, null at the end.</summary>
public sealed record AuditEntryPage(IReadOnlyList<AuditEntry> Entries, long? Next);

/// <summary>
/// The audit path of entry <paramref name="Seq"/> in the tree of the first <paramref name="TreeSize"/> entries,
/// from the leaf upwards (RFC 6962 §2.1.1), with the stored head's root it leads to.
/// </summary>
public sealed record AuditInclusionProof(long Seq, long TreeSize, string LeafHash, IReadOnlyList<string> AuditPath, string RootHash);

/// <summary>
/// The proof (RFC 6962 §2.1.2) that the log of <paramref name="First"/> entries is a prefix of the log of
/// <paramref name="Second"/>, with the roots of the stored heads of both sizes.
/// </summary>
public sealed record AuditConsistencyProof(long First, long Second, string FirstRootHash, string SecondRootHash, IReadOnlyList<string> Proof);

/// <summary>
/// The result of recomputing the log from its rows. When not <paramref name="Ok"/>, <paramref name="Seq"/> is the
/// first entry at which the rows stop matching what was appended, and <paramref name="Failure"/> says how.
/// <paramref name="Size"/> is how many entries were read up to there, <paramref name="RootHash"/> their
/// recomputed root.
/// </summary>
public sealed record AuditVerification(
    bool Ok,
    long Size,
    string RootHash,
    long? Seq,
    AuditFailure? Failure,
    string? Detail,
    DateTimeOffset VerifiedAt);

[JsonConverter(typeof(JsonStringEnumConverter<AuditFailure>))]
public enum AuditFailure
{
    /// <summary>The stored leaf hash is not the hash of the entry's columns: the entry or its leaf hash was changed.</summary>
    [JsonStringEnumMemberName("leaf-hash-mismatch")]
    LeafHashMismatch,

    /// <summary>An entry is missing (a gap in seq, or a head covers more entries than there are).</summary>
    [JsonStringEnumMemberName("missing-entry")]
    MissingEntry,

    /// <summary>The head stored after this entry has another root than the entries recompute to.</summary>
    [JsonStringEnumMemberName("root-mismatch")]
    RootMismatch,

    /// <summary>The head written with this entry is missing (every append writes one).</summary>
    [JsonStringEnumMemberName("missing-head")]
    MissingHead,

    /// <summary>The entry's columns cannot be read back into canonical form (e.g. its details were replaced by a non-object).</summary>
    [JsonStringEnumMemberName("unreadable-entry")]
    UnreadableEntry,
}

/// <summary>A proof was asked for a tree larger than the log's current head.</summary>
public sealed class AuditTreeSizeException(long requested, long headSize)
    : Exception($"The log has {headSize} entries; a tree of {requested} does not exist yet.")
{
    public long Requested { get; } = requested;

    public long HeadSize { get; } = headSize;
}

/// <summary>The stored log does not hold what a proof needs (a missing entry or head); <c>VerifyAsync</c> says more.</summary>
public sealed class AuditLogDamagedException(long seq, string message) : Exception(message)
{
    public long Seq { get; } = seq;
}
