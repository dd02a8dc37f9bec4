namespace VoiceKraliki.ServiceDefaults.Http;

/// <summary>Sends requests for <c>http://{service}/…</c> to that service's configured address.</summary>
public sealed class ServiceDiscoveryHandler(ServiceEndpointResolver resolver) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { } uri)
        {
            request.RequestUri = resolver.Rewrite(uri);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
