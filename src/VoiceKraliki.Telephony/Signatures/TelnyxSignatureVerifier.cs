using System.Buffers;
using System.Globalization;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace VoiceKraliki.Telephony.Signatures;

/// <summary>
/// Verifies Telnyx's <c>telnyx-signature-ed25519</c> (Ed25519 over UTF-8 of <c>timestamp|raw body</c>)
/// and that <c>telnyx-timestamp</c> is within the tolerance of now, in either direction. Thread-safe.
/// Never throws on request input.
/// </summary>
public sealed class TelnyxSignatureVerifier
{
    public const string SignatureHeader = "telnyx-signature-ed25519";
    public const string TimestampHeader = "telnyx-timestamp";
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromSeconds(300);

    /// <summary>Base64 of a 64-byte signature is 88 characters; anything much longer is not worth decoding.</summary>
    private const int MaxSignatureChars = 128;

    /// <summary>long.MaxValue has 19 digits; a longer timestamp is malformed before it is parsed.</summary>
    private const int MaxTimestampDigits = 19;

    /// <summary>The last second DateTimeOffset can represent (9999-12-31T23:59:59Z).</summary>
    private const long MaxUnixSeconds = 253_402_300_799;

    private readonly byte[] _publicKey;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _tolerance;

    /// <param name="publicKeyBase64">Base64 of the raw 32-byte Ed25519 key from the Telnyx portal.</param>
    /// <param name="timeProvider">The clock timestamps are checked against.</param>
    /// <param name="tolerance">Largest accepted |now − timestamp|; <see cref="DefaultTolerance"/> when null.</param>
    /// <exception cref="ArgumentException">The key is not base64 of exactly 32 bytes, or the tolerance is negative.</exception>
    public TelnyxSignatureVerifier(string publicKeyBase64, TimeProvider timeProvider, TimeSpan? tolerance = null)
    {
        ArgumentNullException.ThrowIfNull(publicKeyBase64);
        ArgumentNullException.ThrowIfNull(timeProvider);

        Span<byte> decoded = stackalloc byte[64];
        if (!Convert.TryFromBase64String(publicKeyBase64, decoded, out var written) || written != TelnyxSignedMessage.PublicKeySize)
        {
            throw new ArgumentException("The Telnyx public key must be the base64 of a 32-byte Ed25519 key.", nameof(publicKeyBase64));
        }

        var window = tolerance ?? DefaultTolerance;
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.Zero, nameof(tolerance));

        _publicKey = decoded[..written].ToArray();
        _timeProvider = timeProvider;
        _tolerance = window;
    }

    /// <summary>
    /// Checks the raw body exactly as received (before any JSON parsing) against the two headers' values.
    /// The signature is checked before the clock, so <see cref="TelnyxVerificationResult.TimestampTooOld"/>
    /// and <see cref="TelnyxVerificationResult.TimestampInFuture"/> describe an authentic message (a replay
    /// or a skewed clock), not a forgery.
    /// </summary>
    public TelnyxVerificationResult Verify(ReadOnlySpan<byte> rawBody, string? signatureBase64, string? timestamp)
    {
        if (string.IsNullOrEmpty(signatureBase64))
        {
            return TelnyxVerificationResult.MissingSignature;
        }

        if (string.IsNullOrEmpty(timestamp))
        {
            return TelnyxVerificationResult.MissingTimestamp;
        }

        var signature = ArrayPool<byte>.Shared.Rent(MaxSignatureChars);
        try
        {
            if (signatureBase64.Length > MaxSignatureChars
                || !Convert.TryFromBase64String(signatureBase64, signature, out var signatureLength)
                || signatureLength != TelnyxSignedMessage.SignatureSize)
            {
                return TelnyxVerificationResult.MalformedSignature;
            }

            if (!TryParseUnixSeconds(timestamp, out var seconds))
            {
                return TelnyxVerificationResult.MalformedTimestamp;
            }

            if (!SignatureMatches(rawBody, signature, timestamp))
            {
                return TelnyxVerificationResult.InvalidSignature;
            }

            return CheckClock(seconds);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(signature);
        }
    }

    private bool SignatureMatches(ReadOnlySpan<byte> rawBody, byte[] signature, string timestamp)
    {
        var message = TelnyxSignedMessage.Rent(timestamp, rawBody, out var length);
        if (message is null)
        {
            return false;
        }

        try
        {
            return Ed25519.Verify(signature, 0, _publicKey, 0, message, 0, length);
        }
        finally
        {
            TelnyxSignedMessage.Return(message);
        }
    }

    private TelnyxVerificationResult CheckClock(long seconds)
    {
        if (seconds > MaxUnixSeconds)
        {
            return TelnyxVerificationResult.TimestampInFuture;
        }

        var age = _timeProvider.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (age > _tolerance)
        {
            return TelnyxVerificationResult.TimestampTooOld;
        }

        return age < -_tolerance ? TelnyxVerificationResult.TimestampInFuture : TelnyxVerificationResult.Valid;
    }

    /// <summary>Unix seconds as plain ASCII digits: no sign, spaces, fraction or exponent.</summary>
    private static bool TryParseUnixSeconds(string timestamp, out long seconds)
    {
        seconds = 0;
        return timestamp.Length <= MaxTimestampDigits
            && !timestamp.AsSpan().ContainsAnyExceptInRange('0', '9')
            && long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out seconds);
    }
}
