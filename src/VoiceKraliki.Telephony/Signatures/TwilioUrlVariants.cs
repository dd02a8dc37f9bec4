using System.Text;

namespace VoiceKraliki.Telephony.Signatures;

/// <summary>
/// The spellings of one URL that Twilio may have signed. Twilio's own SDKs accept the URL as given and
/// the same URL with the port removed (when it has one) or the scheme's default port added (when it has
/// none), because Twilio's back end is inconsistent about ports. twilio-node also accepts the query
/// with an apostrophe escaped as <c>%27</c> or unescaped, since frameworks and Twilio disagree on
/// escaping it. Everything else, including the case of the scheme and host, must match exactly.
/// Works on the URL's UTF-8 bytes: every delimiter is ASCII, and UTF-8 never hides ASCII inside a
/// multi-byte character.
/// </summary>
internal readonly ref struct TwilioUrlVariants
{
    /// <summary>Candidates are numbered: bit 0 = port variant, bits 1-2 = apostrophe handling.</summary>
    internal const int FirstCandidate = 0;
    internal const int LastCandidate = 5;

    /// <summary>The most a candidate can grow beyond the URL plus its apostrophe escapes (":443").</summary>
    internal const int MaxGrowth = 4;

    private const int AsGiven = 0;
    private const int EscapeApostrophes = 1;
    private const int UnescapeApostrophes = 2;

    private const int NoPort = -1;
    private const int Unparseable = -2;

    private readonly ReadOnlySpan<byte> _url;
    private readonly bool _hasPortVariant;
    private readonly int _portCut;
    private readonly int _portCutEnd;
    private readonly ReadOnlySpan<byte> _portInsert;
    private readonly int _queryStart;
    private readonly int _apostrophes;
    private readonly int _escapedApostrophes;

    private TwilioUrlVariants(
        ReadOnlySpan<byte> url, bool hasPortVariant, int portCut, int portCutEnd, ReadOnlySpan<byte> portInsert, int queryStart)
    {
        _url = url;
        _hasPortVariant = hasPortVariant;
        _portCut = portCut;
        _portCutEnd = portCutEnd;
        _portInsert = portInsert;
        _queryStart = queryStart;
        var query = url[queryStart..];
        _apostrophes = query.Count((byte)'\'');
        _escapedApostrophes = query.Count("%27"u8);
    }

    internal static TwilioUrlVariants Parse(ReadOnlySpan<byte> url)
    {
        var schemeEnd = url.IndexOf("://"u8);
        if (schemeEnd <= 0)
        {
            return new TwilioUrlVariants(url, false, 0, 0, default, QueryStart(url, 0));
        }

        var authorityStart = schemeEnd + 3;
        var authorityLength = url[authorityStart..].IndexOfAny("/?#"u8);
        var authorityEnd = authorityLength < 0 ? url.Length : authorityStart + authorityLength;
        var queryStart = QueryStart(url, authorityEnd);

        // Credentials stay in the signed string; the port follows the host, after any "user:pass@".
        var hostStart = authorityStart + url[authorityStart..authorityEnd].LastIndexOf((byte)'@') + 1;
        var hostAndPort = url[hostStart..authorityEnd];
        var colon = PortColon(hostAndPort);
        if (colon == Unparseable)
        {
            return new TwilioUrlVariants(url, false, 0, 0, default, queryStart);
        }

        if (colon >= 0)
        {
            var digits = hostAndPort[(colon + 1)..];
            var numeric = !digits.ContainsAnyExceptInRange((byte)'0', (byte)'9');
            return new TwilioUrlVariants(url, numeric, hostStart + colon, authorityEnd, default, queryStart);
        }

        var scheme = url[..schemeEnd];
        var defaultPort = Ascii.EqualsIgnoreCase(scheme, "https"u8) ? ":443"u8
            : Ascii.EqualsIgnoreCase(scheme, "http"u8) ? ":80"u8
            : default;
        return new TwilioUrlVariants(url, !defaultPort.IsEmpty, authorityEnd, authorityEnd, defaultPort, queryStart);
    }

    internal bool Offers(int candidate) =>
        (!IsPortVariant(candidate) || _hasPortVariant)
        && ApostropheHandling(candidate) switch
        {
            AsGiven => true,
            EscapeApostrophes => _apostrophes > 0,
            UnescapeApostrophes => _escapedApostrophes > 0,
            _ => false,
        };

    internal int Length(int candidate)
    {
        var length = _url.Length;
        if (IsPortVariant(candidate))
        {
            length += _portInsert.Length - (_portCutEnd - _portCut);
        }

        return ApostropheHandling(candidate) switch
        {
            EscapeApostrophes => length + (2 * _apostrophes),
            UnescapeApostrophes => length - (2 * _escapedApostrophes),
            _ => length,
        };
    }

    /// <summary>Writes the candidate into <paramref name="destination"/>, which is exactly <see cref="Length"/> long.</summary>
    internal void Write(int candidate, Span<byte> destination)
    {
        var beforeQuery = _url[.._queryStart];
        var written = 0;
        if (IsPortVariant(candidate))
        {
            written += Copy(beforeQuery[.._portCut], destination);
            written += Copy(_portInsert, destination[written..]);
            written += Copy(beforeQuery[_portCutEnd..], destination[written..]);
        }
        else
        {
            written += Copy(beforeQuery, destination);
        }

        var query = _url[_queryStart..];
        switch (ApostropheHandling(candidate))
        {
            case EscapeApostrophes:
                foreach (var b in query)
                {
                    if (b == (byte)'\'')
                    {
                        written += Copy("%27"u8, destination[written..]);
                    }
                    else
                    {
                        destination[written++] = b;
                    }
                }

                break;
            case UnescapeApostrophes:
                for (var i = 0; i < query.Length; i++)
                {
                    if (query[i..].StartsWith("%27"u8))
                    {
                        destination[written++] = (byte)'\'';
                        i += 2;
                    }
                    else
                    {
                        destination[written++] = query[i];
                    }
                }

                break;
            default:
                Copy(query, destination[written..]);
                break;
        }
    }

    private static int PortColon(ReadOnlySpan<byte> hostAndPort)
    {
        if (hostAndPort.StartsWith((byte)'['))
        {
            // IPv6 literal: its colons are inside the brackets.
            var close = hostAndPort.IndexOf((byte)']');
            if (close < 0)
            {
                return Unparseable;
            }

            return close + 1 < hostAndPort.Length && hostAndPort[close + 1] == (byte)':' ? close + 1 : NoPort;
        }

        var colon = hostAndPort.LastIndexOf((byte)':');
        return colon < 0 ? NoPort : colon;
    }

    private static int QueryStart(ReadOnlySpan<byte> url, int from)
    {
        var question = url[from..].IndexOf((byte)'?');
        return question < 0 ? url.Length : from + question;
    }

    private static bool IsPortVariant(int candidate) => (candidate & 1) != 0;

    private static int ApostropheHandling(int candidate) => candidate >> 1;

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }
}
