using System.Diagnostics;
using OpenTelemetry;

namespace VoiceKraliki.ServiceDefaults.Telemetry;

/// <summary>
/// Keeps URLs that are secrets (a Slack incoming webhook, a receiver's tokenised endpoint) out of exported traces. The
/// framework's HTTP client span records <c>url.full</c> with the path, and only the query is redacted by default. A
/// client that sends to such URLs adds <see cref="SecretUrlHandler"/>: each request runs inside a span of ours marked
/// <see cref="Tag"/>, and <see cref="SecretUrlRedactionProcessor"/> cuts the path from the HTTP span under it before
/// any exporter sees it.
/// </summary>
public static class SecretUrls
{
    public const string Tag = "vk.secret_url";
    public const string HttpClientSource = "System.Net.Http";
    public const string Redacted = "REDACTED";

    /// <summary><paramref name="url"/> with only scheme, host and port kept.</summary>
    public static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) ? $"{uri.Scheme}://{uri.Authority}/{Redacted}" : Redacted;
}

/// <summary>Runs each request of its client inside a span marked <see cref="SecretUrls.Tag"/> (see <see cref="SecretUrls"/>).</summary>
public sealed class SecretUrlHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var activity = VoiceKralikiTelemetry.ActivitySource.StartActivity("http.client.secret_url", ActivityKind.Internal);
        activity?.SetTag(SecretUrls.Tag, true);
        activity?.SetTag("server.address", request.RequestUri?.Host);
        return await base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Cuts the path out of the URL of HTTP client spans under a span marked <see cref="SecretUrls.Tag"/>.</summary>
public sealed class SecretUrlRedactionProcessor : BaseProcessor<Activity>
{
    public override void OnEnd(Activity data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Source.Name != SecretUrls.HttpClientSource || data.Parent?.GetTagItem(SecretUrls.Tag) is not true)
        {
            return;
        }

        foreach (var name in new[] { "url.full", "http.url" })
        {
            if (data.GetTagItem(name) is string url)
            {
                data.SetTag(name, SecretUrls.Redact(url));
            }
        }
    }
}
