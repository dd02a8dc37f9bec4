namespace VoiceKraliki.ServiceDefaults.Http;

/// <summary>Sends requests for <c>http://{service}/…</c> to that service's configured address.</summary>
public sealed class ServiceDiscoveryHandler(ServiceEndpointResolver resolver) : DelegatingHandler
{
    /// <summary>The URI the caller asked for, kept so that every retry resolves the service name afresh.</summary>
    private static readonly HttpRequestOptionsKey<Uri> LogicalUriKey = new("VoiceKraliki.LogicalUri");

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(LogicalUriKey, out var logical) && request.RequestUri is { } uri)
        {
            logical = uri;
            request.Options.Set(LogicalUriKey, logical);
        }

        if (logical is not null)
        {
            request.RequestUri = resolver.Rewrite(logical);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
