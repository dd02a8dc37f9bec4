using System.Globalization;
using System.Security.Cryptography;
using Org.BouncyCastle.Math.EC.Rfc8032;

namespace VoiceKraliki.Telephony.Signatures;

/// <summary>Signs webhooks the way Telnyx does, for tests and the provider simulator.</summary>
public sealed class TelnyxWebhookSigner
{
    private readonly byte[] _seed;

    /// <param name="privateKeySeed32">The 32-byte Ed25519 private key (RFC 8032 "secret key").</param>
    /// <exception cref="ArgumentException">The seed is not exactly 32 bytes.</exception>
    public TelnyxWebhookSigner(ReadOnlySpan<byte> privateKeySeed32)
    {
        if (privateKeySeed32.Length != Ed25519.SecretKeySize)
        {
            throw new ArgumentException("An Ed25519 private key seed is exactly 32 bytes.", nameof(privateKeySeed32));
        }

        _seed = privateKeySeed32.ToArray();
        var publicKey = new byte[Ed25519.PublicKeySize];
        Ed25519.GeneratePublicKey(_seed, 0, publicKey, 0);
        PublicKeyBase64 = Convert.ToBase64String(publicKey);
    }

    /// <summary>Base64 of the raw 32-byte public key, as the Telnyx portal shows it.</summary>
    public string PublicKeyBase64 { get; }

    /// <summary>A signer with a fresh random key.</summary>
    public static TelnyxWebhookSigner Generate()
    {
        Span<byte> seed = stackalloc byte[Ed25519.SecretKeySize];
        RandomNumberGenerator.Fill(seed);
        try
        {
            return new TelnyxWebhookSigner(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>The two header values Telnyx would send with <paramref name="rawBody"/> at <paramref name="at"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="at"/> is before the Unix epoch.</exception>
    public (string Signature, string Timestamp) Sign(ReadOnlySpan<byte> rawBody, DateTimeOffset at)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(at, DateTimeOffset.UnixEpoch);
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return (SignWithTimestamp(rawBody, timestamp), timestamp);
    }

    /// <summary>Signs any timestamp text, including ones Telnyx would never send (tests of the verifier's clock checks).</summary>
    internal string SignWithTimestamp(ReadOnlySpan<byte> rawBody, string timestamp)
    {
        var message = TelnyxSignedMessage.Rent(timestamp, rawBody, out var length)
            ?? throw new ArgumentException("The body is too large to sign.", nameof(rawBody));
        try
        {
            var signature = new byte[Ed25519.SignatureSize];
            Ed25519.Sign(_seed, 0, message, 0, length, signature, 0);
            return Convert.ToBase64String(signature);
        }
        finally
        {
            TelnyxSignedMessage.Return(message);
        }
    }
}
