using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using VoiceKraliki.Telephony;
using VoiceKraliki.WebhookIngress.Security;

namespace VoiceKraliki.WebhookIngress.Webhooks;

/// <summary>
/// The URL the provider called, which is what Twilio signs: <c>Telephony:PublicBaseUrl</c> when set,
/// else the scheme and host the gateway forwarded (only a trusted proxy may say), else what this
/// service saw. The path and query are kept exactly as they arrived.
/// </summary>
public sealed class PublicUrl(IOptions<TelephonyOptions> telephony, ClientAddressResolver proxies)
{
    private readonly string? _base = string.IsNullOrWhiteSpace(telephony.Value.PublicBaseUrl) ? null : telephony.Value.PublicBaseUrl.TrimEnd('/');

    public string For(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(target) || target[0] != '/')
        {
            target = context.Request.Path.ToUriComponent() + context.Request.QueryString.ToUriComponent();
        }

        if (_base is not null)
        {
            return _base + target;
        }

        var request = context.Request;
        var scheme = request.Scheme;
        var host = request.Host.Value ?? string.Empty;
        if (proxies.IsTrustedProxy(context.Connection.RemoteIpAddress))
        {
            if (Single(request.Headers["X-Forwarded-Proto"]) is { } proto && proto is "http" or "https")
            {
                scheme = proto;
            }

            if (Single(request.Headers["X-Forwarded-Host"]) is { } forwardedHost)
            {
                host = forwardedHost;
            }
        }

        return $"{scheme}://{host}{target}";
    }

    /// <summary>The stream URL for TwiML: ws(s) on the same public host.</summary>
    public string MediaStreamUrl(HttpContext context, string provider)
    {
        var url = new Uri(For(context));
        var scheme = url.Scheme == Uri.UriSchemeHttps ? "wss" : "ws";
        var basePath = _base is null ? string.Empty : new Uri(_base).AbsolutePath.TrimEnd('/');
        return $"{scheme}://{url.Authority}{basePath}/media/{provider}";
    }

    private static string? Single(Microsoft.Extensions.Primitives.StringValues values)
    {
        if (values.Count != 1 || string.IsNullOrWhiteSpace(values[0]))
        {
            return null;
        }

        // A list ("https, http") is taken from the nearest proxy: the last entry.
        var value = values[0]!;
        var comma = value.LastIndexOf(',');
        return (comma >= 0 ? value[(comma + 1)..] : value).Trim();
    }
}
