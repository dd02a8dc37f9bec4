namespace VoiceKraliki.Telephony.Signatures;

/// <summary>Why a Telnyx webhook was or was not accepted. Only <see cref="Valid"/> means authentic and fresh.</summary>
public enum TelnyxVerificationResult
{
    Valid,
    MissingSignature,
    MissingTimestamp,
    MalformedSignature,
    MalformedTimestamp,
    InvalidSignature,
    TimestampTooOld,
    TimestampInFuture,
}
