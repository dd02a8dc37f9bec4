using System.Buffers;
using System.Security.Cryptography;

namespace VoiceKraliki.Telephony.Signatures;

/// <summary>The <c>bodySHA256</c> query parameter Twilio adds to the URL when the body is not a form.</summary>
internal static class TwilioBodyHash
{
    internal const string ParameterName = "bodySHA256";

    /// <summary>
    /// Reads the 64 hex digits of <c>bodySHA256</c> from the query. False when it is absent, not
    /// 32 bytes of hex, or present more than once (which one Twilio meant would be a guess).
    /// </summary>
    internal static bool TryRead(string url, Span<byte> hash)
    {
        if (Find(Query(url), out var hex) != 1
            || hex.Length != 2 * SHA256.HashSizeInBytes
            || Convert.FromHexString(hex, hash, out _, out var written) != OperationStatus.Done)
        {
            return false;
        }

        return written == SHA256.HashSizeInBytes;
    }

    /// <summary>The URL with <c>bodySHA256</c> appended to its query (before any fragment).</summary>
    internal static string Append(string url, ReadOnlySpan<byte> body)
    {
        if (Find(Query(url), out _) != 0)
        {
            throw new ArgumentException("The URL already carries a bodySHA256 parameter.", nameof(url));
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body, hash);
        var fragment = url.IndexOf('#', StringComparison.Ordinal);
        var beforeFragment = fragment < 0 ? url : url[..fragment];
        var afterFragment = fragment < 0 ? string.Empty : url[fragment..];
        var query = Query(url);
        var separator = !beforeFragment.Contains('?', StringComparison.Ordinal) ? "?"
            : query.IsEmpty || query.EndsWith('&') ? string.Empty
            : "&";
        return string.Concat(beforeFragment, separator, ParameterName + "=", Convert.ToHexStringLower(hash), afterFragment);
    }

    /// <summary>How many <c>bodySHA256</c> parameters the query has; <paramref name="value"/> is the first one's.</summary>
    private static int Find(ReadOnlySpan<char> query, out ReadOnlySpan<char> value)
    {
        value = default;
        var occurrences = 0;
        while (!query.IsEmpty)
        {
            var amp = query.IndexOf('&');
            var pair = amp < 0 ? query : query[..amp];
            query = amp < 0 ? [] : query[(amp + 1)..];

            var eq = pair.IndexOf('=');
            var name = eq < 0 ? pair : pair[..eq];
            if (!name.SequenceEqual(ParameterName))
            {
                continue;
            }

            if (occurrences++ == 0)
            {
                value = eq < 0 ? [] : pair[(eq + 1)..];
            }
        }

        return occurrences;
    }

    private static ReadOnlySpan<char> Query(string url)
    {
        var span = url.AsSpan();
        var fragment = span.IndexOf('#');
        if (fragment >= 0)
        {
            span = span[..fragment];
        }

        var question = span.IndexOf('?');
        return question < 0 ? [] : span[(question + 1)..];
    }
}
