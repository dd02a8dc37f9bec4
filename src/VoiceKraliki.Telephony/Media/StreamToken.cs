using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.Telephony.Media;

/// <summary>What a stream token vouches for: this provider's call may open a media stream until <see cref="ExpiresAt"/>.</summary>
public sealed record StreamTokenClaims(TelephonyProvider Provider, string CallId, string? SessionId, DateTimeOffset ExpiresAt);

public enum StreamTokenValidation
{
    Valid,
    Malformed,
    BadSignature,
    Expired,
}

/// <summary>
/// Issues and checks the token webhook-ingress puts in a <c>&lt;Stream&gt;</c> as <c>&lt;Parameter name="token"&gt;</c>,
/// so media-bridge accepts only the streams we asked for.
/// </summary>
/// <remarks>
/// Format: <c>base64url(payload) + "." + base64url(HMAC-SHA256(key, payload))</c>, no padding. The payload is a small
/// JSON object <c>{"v":1,"p":"Twilio","c":"&lt;call id&gt;","s":"&lt;session id&gt;","exp":&lt;unix seconds&gt;}</c>.
/// The MAC is checked (in constant time) before the payload is read, so a forged token never reaches the JSON reader
/// and any change to a signed token reads as <see cref="StreamTokenValidation.BadSignature"/>.
/// A token is expired from its <c>exp</c> second on. Tokens are secrets: never log them.
/// </remarks>
public sealed class StreamTokenService
{
    public const int MinKeyLength = 32;

    /// <summary>Longer than any token we issue (call ids are at most 256 characters).</summary>
    public const int MaxTokenLength = 2048;

    private const int MacLength = 32;
    private const int MaxIdLength = 256;
    private const int Version = 1;

    private readonly byte[] _key;
    private readonly TimeProvider _time;

    public StreamTokenService(byte[] key, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(time);
        if (key.Length < MinKeyLength)
        {
            throw new ArgumentException($"The stream token key must be at least {MinKeyLength} bytes; it is {key.Length}.", nameof(key));
        }

        _key = (byte[])key.Clone();
        _time = time;
    }

    public string Issue(TelephonyProvider provider, string callId, string? sessionId, TimeSpan lifetime)
    {
        ArgumentException.ThrowIfNullOrEmpty(callId);
        if (callId.Length > MaxIdLength)
        {
            throw new ArgumentException($"A call id is at most {MaxIdLength} characters.", nameof(callId));
        }

        if (sessionId is { Length: > MaxIdLength })
        {
            throw new ArgumentException($"A session id is at most {MaxIdLength} characters.", nameof(sessionId));
        }

        if (!Enum.IsDefined(provider))
        {
            throw new ArgumentOutOfRangeException(nameof(provider), provider, "Unknown telephony provider.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);

        var expiresAt = _time.GetUtcNow().Add(lifetime).ToUnixTimeSeconds();
        var payload = WritePayload(provider, callId, sessionId, expiresAt);

        Span<byte> mac = stackalloc byte[MacLength];
        HMACSHA256.HashData(_key, payload, mac);
        return string.Concat(Base64Url.EncodeToString(payload), ".", Base64Url.EncodeToString(mac));
    }

    /// <summary>Checks a token; <paramref name="claims"/> is set only when the result is <see cref="StreamTokenValidation.Valid"/>. Never throws.</summary>
    public StreamTokenValidation Validate(string? token, out StreamTokenClaims? claims)
    {
        claims = null;
        if (string.IsNullOrEmpty(token) || token.Length > MaxTokenLength)
        {
            return StreamTokenValidation.Malformed;
        }

        var dot = token.IndexOf('.');
        if (dot <= 0 || dot != token.LastIndexOf('.'))
        {
            return StreamTokenValidation.Malformed;
        }

        var payloadText = token.AsSpan(0, dot);
        var macText = token.AsSpan(dot + 1);

        Span<byte> payload = stackalloc byte[Base64Url.GetMaxDecodedLength(MaxTokenLength)];
        Span<byte> mac = stackalloc byte[Base64Url.GetMaxDecodedLength(MaxTokenLength)];
        if (!TryDecode(payloadText, payload, out var payloadLength)
            || !TryDecode(macText, mac, out var macLength)
            || payloadLength == 0
            || macLength != MacLength
            || !IsCanonical(payload[..payloadLength], payloadText)
            || !IsCanonical(mac[..macLength], macText))
        {
            return StreamTokenValidation.Malformed;
        }

        payload = payload[..payloadLength];
        Span<byte> expected = stackalloc byte[MacLength];
        HMACSHA256.HashData(_key, payload, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, mac[..MacLength]))
        {
            return StreamTokenValidation.BadSignature;
        }

        if (!TryReadPayload(payload, out var read))
        {
            return StreamTokenValidation.Malformed;
        }

        if (_time.GetUtcNow() >= read.ExpiresAt)
        {
            return StreamTokenValidation.Expired;
        }

        claims = read;
        return StreamTokenValidation.Valid;
    }

    // Base64Url.TryDecodeFromChars throws on characters outside the alphabet; the OperationStatus form does not.
    private static bool TryDecode(ReadOnlySpan<char> text, Span<byte> destination, out int written) =>
        Base64Url.DecodeFromChars(text, destination, out var consumed, out written) == OperationStatus.Done
        && consumed == text.Length;

    // Only the one spelling we issue is accepted, so a token cannot be re-encoded (padding, spare bits) and still pass.
    private static bool IsCanonical(ReadOnlySpan<byte> decoded, ReadOnlySpan<char> text)
    {
        Span<char> encoded = stackalloc char[MaxTokenLength];
        return Base64Url.TryEncodeToChars(decoded, encoded, out var written) && encoded[..written].SequenceEqual(text);
    }

    private static byte[] WritePayload(TelephonyProvider provider, string callId, string? sessionId, long expiresAt)
    {
        using var buffer = new MemoryStream(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", Version);
            writer.WriteString("p", provider.ToString());
            writer.WriteString("c", callId);
            if (sessionId is not null)
            {
                writer.WriteString("s", sessionId);
            }

            writer.WriteNumber("exp", expiresAt);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static bool TryReadPayload(ReadOnlySpan<byte> payload, out StreamTokenClaims claims)
    {
        claims = null!;
        try
        {
            var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 2 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            int? version = null;
            TelephonyProvider? provider = null;
            string? callId = null;
            string? sessionId = null;
            long? expiresAt = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (!reader.Read())
                {
                    return false;
                }

                switch (name)
                {
                    case "v" when reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v):
                        version = v;
                        break;
                    case "p" when reader.TokenType == JsonTokenType.String
                                  && Enum.TryParse<TelephonyProvider>(reader.GetString(), ignoreCase: false, out var p)
                                  && Enum.IsDefined(p):
                        provider = p;
                        break;
                    case "c" when reader.TokenType == JsonTokenType.String:
                        callId = reader.GetString();
                        break;
                    case "s" when reader.TokenType == JsonTokenType.String:
                        sessionId = reader.GetString();
                        break;
                    case "exp" when reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var exp):
                        expiresAt = exp;
                        break;
                    default:
                        return false;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read()
                || version != Version || provider is null || string.IsNullOrEmpty(callId) || expiresAt is null
                || expiresAt < DateTimeOffset.MinValue.ToUnixTimeSeconds() || expiresAt > DateTimeOffset.MaxValue.ToUnixTimeSeconds())
            {
                return false;
            }

            claims = new StreamTokenClaims(provider.Value, callId, sessionId, DateTimeOffset.FromUnixTimeSeconds(expiresAt.Value));
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return false;
        }
    }
}
