using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace VoiceKraliki.ServiceDefaults.Metrics;

public static class PrometheusExpositionExtensions
{
    /// <summary>
    /// Adds <paramref name="exposition"/>'s pull reader to the provider, so that each scrape collects
    /// the provider's meters. An exposition can be attached to one provider only.
    /// </summary>
    public static MeterProviderBuilder AddPrometheusExposition(this MeterProviderBuilder builder, PrometheusExposition exposition)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(exposition);
        exposition.Attach();
        return builder.AddReader(exposition.Reader);
    }

    /// <summary>
    /// Maps <c>GET</c> (and <c>HEAD</c>) <paramref name="path"/> to a scrape of the
    /// <see cref="PrometheusExposition"/> registered in DI, answered with
    /// <see cref="PrometheusExposition.ContentType"/>; 503 when the SDK cannot collect.
    /// </summary>
    /// <exception cref="InvalidOperationException">No <see cref="PrometheusExposition"/> is registered.</exception>
    public static IEndpointConventionBuilder MapPrometheusScrapingEndpoint(this IEndpointRouteBuilder endpoints, string path = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);

        var services = endpoints.ServiceProvider;
        var exposition = services.GetService<PrometheusExposition>()
            ?? throw new InvalidOperationException(
                $"No {nameof(PrometheusExposition)} is registered: register the instance passed to {nameof(AddPrometheusExposition)} as a singleton.");
        if (services.GetService<ILoggerFactory>() is { } loggerFactory)
        {
            exposition.UseLogger(loggerFactory);
        }

        return endpoints
            .MapMethods(path, [HttpMethods.Get, HttpMethods.Head], context => ScrapeAsync(context, exposition))
            .WithDisplayName("Prometheus metrics")
            .ExcludeFromDescription();
    }

    private static async Task ScrapeAsync(HttpContext context, PrometheusExposition exposition)
    {
        var response = context.Response;
        response.Headers.CacheControl = "no-store";

        byte[]? body;
        try
        {
            body = await exposition.TryScrapeAsync(context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        if (body is null)
        {
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync("metrics collection failed\n", context.RequestAborted);
            return;
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = PrometheusExposition.ContentType;
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
    }
}
