using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.ServiceDefaults.Auth;

namespace Microsoft.Extensions.Hosting;

public static class ServiceInfoApi
{
    /// <summary>
    /// <c>GET {prefix}/info</c> for each prefix: which service and instance answered and who the caller is.
    /// Any authenticated caller may ask; it is how an operator checks credentials and routing.
    /// </summary>
    public static IEndpointRouteBuilder MapServiceInfoApi(this IEndpointRouteBuilder endpoints, params string[] prefixes)
    {
        foreach (var prefix in prefixes)
        {
            endpoints.MapGet($"{prefix.TrimEnd('/')}/info", GetInfo)
                .RequireAuthorization(Policies.Authenticated)
                .WithName($"ServiceInfo{prefix.Replace('/', '_')}")
                .WithTags("Service");
        }

        return endpoints;
    }

    private static Ok<ServiceInfo> GetInfo(HttpContext context, IConfiguration configuration)
    {
        var user = context.User;
        var instance = (configuration["OTEL_RESOURCE_ATTRIBUTES"] ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2 && p[0].Trim() == "service.instance.id")
            .Select(p => p[1].Trim())
            .FirstOrDefault() ?? $"{Environment.MachineName}-{Environment.ProcessId}";
        return TypedResults.Ok(new ServiceInfo(
            configuration["OTEL_SERVICE_NAME"] ?? context.RequestServices.GetRequiredService<IHostEnvironment>().ApplicationName,
            instance,
            Assembly.GetEntryAssembly()?.GetName().Version?.ToString() ?? "0.0.0",
            user.Identity?.Name,
            user.Identity?.AuthenticationType,
            user.FindAll(Roles.ClaimType).Select(c => c.Value).Distinct().Order(StringComparer.Ordinal).ToArray()));
    }

    public sealed record ServiceInfo(string Service, string Instance, string Version, string? Subject, string? AuthenticatedBy, string[] Roles);
}
