using VoiceKraliki.AppHost.Model;

namespace VoiceKraliki.AppHost.Contract;

/// <summary>The gateway's YARP routes and clusters as <c>ReverseProxy__…</c> variables, one destination per replica.</summary>
public static class ProxyConfiguration
{
    public const string LoadBalancingPolicy = "PowerOfTwoChoices";
    public const string HealthCheckPath = "/health";
    public const string HealthCheckInterval = "00:00:05";

    public static void AddTo(ProjectResource gateway, IDictionary<string, string> variables)
    {
        foreach (var route in gateway.ProxyRoutes)
        {
            variables[$"ReverseProxy__Routes__{route.RouteId}__ClusterId"] = route.Target.Name;
            variables[$"ReverseProxy__Routes__{route.RouteId}__Match__Path"] = route.Path;
        }

        foreach (var target in gateway.ProxyRoutes.Select(r => r.Target).Distinct())
        {
            var cluster = $"ReverseProxy__Clusters__{target.Name}";
            for (var i = 0; i < target.Replicas; i++)
            {
                variables[$"{cluster}__Destinations__{target.Name}-{i}__Address"] = $"{ServiceEnvironment.BaseUrl(target, i)}/";
            }

            variables[$"{cluster}__LoadBalancingPolicy"] = LoadBalancingPolicy;
            // Active checks take a dead replica out of rotation until it answers again.
            variables[$"{cluster}__HealthCheck__Active__Enabled"] = "true";
            variables[$"{cluster}__HealthCheck__Active__Interval"] = HealthCheckInterval;
            variables[$"{cluster}__HealthCheck__Active__Path"] = HealthCheckPath;
        }

        foreach (var setting in gateway.ProxyClusterSettings)
        {
            variables[$"ReverseProxy__Clusters__{setting.Target.Name}__{ConfigurationFlattener.ToVariableName(setting.Key)}"] = setting.Value;
        }
    }
}
