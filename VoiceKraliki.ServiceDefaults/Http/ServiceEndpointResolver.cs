using Microsoft.Extensions.Configuration;

namespace VoiceKraliki.ServiceDefaults.Http;

/// <summary>
/// Resolves <c>http://call-state</c> to an address from the <c>services__call-state__http__N</c>
/// configuration keys the AppHost (or Kubernetes config) provides, like Aspire's service discovery.
/// Several addresses are used in turn.
/// </summary>
public sealed class ServiceEndpointResolver(IConfiguration configuration)
{
    private int _next;

    /// <summary>Returns the base address for a logical service name, or null when none is configured.</summary>
    public Uri? Resolve(string serviceName, string scheme = "http")
    {
        var section = configuration.GetSection("services").GetSection(serviceName).GetSection(scheme);
        var addresses = section.GetChildren()
            .OrderBy(c => int.TryParse(c.Key, out var i) ? i : int.MaxValue)
            .Select(c => c.Value)
            .Where(v => Uri.TryCreate(v, UriKind.Absolute, out _))
            .Select(v => new Uri(v!))
            .ToArray();
        if (addresses.Length == 0)
        {
            return null;
        }

        var index = (uint)Interlocked.Increment(ref _next) % (uint)addresses.Length;
        return addresses[index];
    }

    /// <summary>Rewrites a URI whose host is a logical service name; other URIs are returned unchanged.</summary>
    public Uri Rewrite(Uri uri)
    {
        if (!uri.IsAbsoluteUri || uri.HostNameType != UriHostNameType.Dns || uri.Host.Contains('.') || uri.Host == "localhost")
        {
            return uri;
        }

        var target = Resolve(uri.Host, uri.Scheme == Uri.UriSchemeHttps ? "https" : "http")
                     ?? (uri.Scheme == Uri.UriSchemeHttps ? Resolve(uri.Host) : null);
        if (target is null)
        {
            return uri;
        }

        var builder = new UriBuilder(uri)
        {
            Scheme = target.Scheme,
            Host = target.Host,
            Port = target.Port,
        };
        var basePath = target.AbsolutePath.TrimEnd('/');
        if (basePath.Length > 0)
        {
            builder.Path = basePath + uri.AbsolutePath;
        }

        return builder.Uri;
    }
}
