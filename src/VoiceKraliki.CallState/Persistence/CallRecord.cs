using VoiceKraliki.CallState.Calls;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Persistence;

/// <summary>A row of <c>calls</c>: the current state of one call.</summary>
public sealed class CallRecord
{
    public required string ProviderCallId { get; set; }

    public string? SessionId { get; set; }

    public TelephonyProvider Provider { get; set; }

    public CallDirection Direction { get; set; }

    public CallStatus Status { get; set; }

    public CallEndReason EndReason { get; set; }

    /// <summary>Personal data (a phone number or SIP address).</summary>
    public string? From { get; set; }

    /// <summary>Personal data (a phone number or SIP address).</summary>
    public string? To { get; set; }

    /// <summary>JSON (<c>jsonb</c>): see <see cref="CallMetadata"/>.</summary>
    public string Metadata { get; set; } = "{}";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public DateTimeOffset? AnsweredAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public long? LastSequence { get; set; }

    public DateTimeOffset? LastProviderTime { get; set; }

    public int AppliedTransitions { get; set; }

    public CallSnapshot ToSnapshot() => new(
        ProviderCallId, SessionId, Provider, Direction, Status, EndReason, From, To, CreatedAt, UpdatedAt,
        AnsweredAt, EndedAt, LastSequence, LastProviderTime, AppliedTransitions);

    public static CallRecord FromSnapshot(CallSnapshot snapshot, string metadata)
    {
        var record = new CallRecord { ProviderCallId = snapshot.ProviderCallId, Metadata = metadata };
        record.Update(snapshot);
        return record;
    }

    /// <summary>Takes every value of <paramref name="snapshot"/> (the state machine's next state); the key must match.</summary>
    public void Update(CallSnapshot snapshot)
    {
        if (!string.Equals(snapshot.ProviderCallId, ProviderCallId, StringComparison.Ordinal))
        {
            throw new InvalidOperationException("A call's snapshot cannot change its provider call id.");
        }

        SessionId = snapshot.SessionId;
        Provider = snapshot.Provider;
        Direction = snapshot.Direction;
        Status = snapshot.Status;
        EndReason = snapshot.EndReason;
        From = snapshot.From;
        To = snapshot.To;
        // timestamptz takes only UTC offsets; providers' times may carry others.
        CreatedAt = snapshot.CreatedAt.ToUniversalTime();
        UpdatedAt = snapshot.UpdatedAt.ToUniversalTime();
        AnsweredAt = snapshot.AnsweredAt?.ToUniversalTime();
        EndedAt = snapshot.EndedAt?.ToUniversalTime();
        LastSequence = snapshot.LastSequence;
        LastProviderTime = snapshot.LastProviderTime?.ToUniversalTime();
        AppliedTransitions = snapshot.AppliedTransitions;
    }
}
