using Microsoft.Extensions.Configuration;
using VoiceKraliki.AppHost.Model;

namespace VoiceKraliki.AppHost.Contract;

/// <summary>
/// The environment a service replica is started with: the same variable names an Aspire AppHost
/// uses, so a service runs unchanged under Aspire or in Kubernetes.
/// </summary>
public static class ServiceEnvironment
{
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string OtlpProtocolKey = "OTEL_EXPORTER_OTLP_PROTOCOL";

    /// <param name="instanceSuffix">Makes <c>service.instance.id</c> unique per process start.</param>
    public static Dictionary<string, string> Build(
        ProjectResource resource, int replica, IConfiguration appHostConfiguration, string instanceSuffix)
    {
        var variables = new Dictionary<string, string>(StringComparer.Ordinal);

        foreach (var reference in resource.References)
        {
            switch (reference)
            {
                case IResourceWithConnectionString withConnectionString:
                    variables[$"ConnectionStrings__{reference.Name}"] = withConnectionString.GetConnectionString();
                    break;
                case ProjectResource project:
                    for (var i = 0; i < project.Replicas; i++)
                    {
                        variables[$"services__{project.Name}__http__{i}"] = BaseUrl(project, i);
                    }

                    break;
            }
        }

        variables["ASPNETCORE_URLS"] = BaseUrl(resource, replica);
        variables["ASPNETCORE_ENVIRONMENT"] = "Development";
        variables["DOTNET_ENVIRONMENT"] = "Development";
        variables["OTEL_SERVICE_NAME"] = resource.Name;
        variables["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={resource.Name}-{replica}-{instanceSuffix}";
        foreach (var key in new[] { OtlpEndpointKey, OtlpProtocolKey })
        {
            if (appHostConfiguration[key] is { Length: > 0 } value)
            {
                variables[key] = value;
            }
        }

        ProxyConfiguration.AddTo(resource, variables);

        var context = new EnvironmentContext(resource, replica, variables);
        foreach (var callback in resource.EnvironmentCallbacks)
        {
            callback(context);
        }

        return variables;
    }

    /// <summary><c>http://127.0.0.1:port</c>, without a trailing slash, as Aspire writes service addresses.</summary>
    public static string BaseUrl(ProjectResource project, int replica) =>
        project.GetEndpoint(replica).GetLeftPart(UriPartial.Authority);
}
