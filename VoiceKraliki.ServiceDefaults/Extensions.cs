using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using VoiceKraliki.ServiceDefaults.Auth;
using VoiceKraliki.ServiceDefaults.Health;
using VoiceKraliki.ServiceDefaults.Http;
using VoiceKraliki.ServiceDefaults.Metrics;
using VoiceKraliki.ServiceDefaults.Telemetry;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every VoiceKraliki service gets, in the shape of Aspire's ServiceDefaults:
/// telemetry, health endpoints, Prometheus metrics, resilient and discoverable HttpClients,
/// problem details and the shared authentication scheme.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        AddConfigurationDefaults(builder.Configuration);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.AddVoiceKralikiTelemetry();
        builder.AddDefaultHealthChecks();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<VoiceKraliki.ServiceDefaults.Http.BadRequestExceptionHandler>();
        builder.Services.AddServiceDiscoveryAndResilience();
        builder.AddVoiceKralikiAuthentication();
        return builder;
    }

    /// <summary>
    /// Defaults every service shares, at the lowest precedence so that appsettings, environment
    /// variables and the command line all override them.
    /// </summary>
    private static void AddConfigurationDefaults(IConfigurationManager configuration)
    {
        configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Information",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
                ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
                // Readiness is reported by /health (and shown by the AppHost); a failing probe every
                // second would otherwise flood the log with the same error.
                ["Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks"] = "Critical",
                ["Logging:LogLevel:Yarp"] = "Warning",
                ["Logging:LogLevel:MassTransit"] = "Warning",
                ["Logging:Console:FormatterName"] = "simple",
                ["Logging:Console:FormatterOptions:SingleLine"] = "true",
                ["Logging:Console:FormatterOptions:TimestampFormat"] = "HH:mm:ss.fff ",
                ["AllowedHosts"] = "*",
            },
        });
    }

    /// <summary>
    /// Adds the shared middleware (problem details for errors, authentication) and maps
    /// <c>/alive</c>, <c>/health</c> and <c>/metrics</c>. Call it first after <c>Build()</c>.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHealthEndpoints();
        app.MapPrometheusScrapingEndpoint("/metrics").AllowAnonymous();
        return app;
    }
}
