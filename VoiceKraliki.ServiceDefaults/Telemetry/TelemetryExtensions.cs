using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using VoiceKraliki.ServiceDefaults.Metrics;

namespace VoiceKraliki.ServiceDefaults.Telemetry;

/// <summary>
/// OpenTelemetry through <see cref="OpenTelemetrySdk.Create"/> (OpenTelemetry.Extensions.Hosting and the
/// instrumentation packages are not on our package source): we listen to the framework's own
/// activity sources and meters instead.
/// </summary>
public static class TelemetryExtensions
{
    /// <summary>Activity sources every service listens to.</summary>
    public static readonly string[] ActivitySources =
    [
        "Microsoft.AspNetCore",
        "System.Net.Http",
        "MassTransit",
        "Npgsql",
        "Yarp.ReverseProxy",
        VoiceKralikiTelemetry.SourceName + "*",
    ];

    /// <summary>Meters every service exports.</summary>
    public static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Http.Connections",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.RateLimiting",
        "Microsoft.AspNetCore.Authentication",
        "Microsoft.AspNetCore.Authorization",
        "System.Net.Http",
        "System.Net.NameResolution",
        "System.Runtime",
        "MassTransit",
        "Npgsql",
        VoiceKralikiTelemetry.SourceName + "*",
    ];

    public static TBuilder AddVoiceKralikiTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var configuration = builder.Configuration;
        var serviceName = configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName;
        var otlpEndpoint = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var exportOtlp = !string.IsNullOrWhiteSpace(otlpEndpoint);

        var exposition = new PrometheusExposition();
        builder.Services.AddSingleton(exposition);

        var sdk = OpenTelemetrySdk.Create(otel =>
        {
            otel.ConfigureResource(r => r
                .AddService(serviceName, serviceInstanceId: InstanceId(configuration))
                .AddEnvironmentVariableDetector());

            otel.WithTracing(tracing =>
            {
                tracing.AddSource(ActivitySources).SetSampler(new ParentBasedSampler(new AlwaysOnSampler()));
                // Before any exporter: secret URLs never leave the process.
                tracing.AddProcessor(new SecretUrlRedactionProcessor());
                if (exportOtlp)
                {
                    tracing.AddOtlpExporter();
                }
            });

            otel.WithMetrics(metrics =>
            {
                metrics.AddMeter(Meters).AddPrometheusExposition(exposition);
                if (exportOtlp)
                {
                    metrics.AddOtlpExporter();
                }
            });

            if (exportOtlp)
            {
                otel.WithLogging(logging => logging.AddOtlpExporter());
            }
        });

        // The host disposes the SDK on shutdown, which flushes pending exports.
        builder.Services.AddSingleton(sdk);
        if (exportOtlp)
        {
            builder.Logging.AddProvider(new SdkLoggerProvider(sdk.GetLoggerFactory()));
        }

        // W3C trace context is the default propagator for HttpClient and MassTransit alike.
        DistributedContextPropagator.Current = DistributedContextPropagator.CreateDefaultPropagator();
        Activity.DefaultIdFormat = ActivityIdFormat.W3C;
        Activity.ForceDefaultIdFormat = true;
        return builder;
    }

    private static string InstanceId(IConfiguration configuration)
    {
        var attributes = configuration["OTEL_RESOURCE_ATTRIBUTES"] ?? string.Empty;
        foreach (var pair in attributes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq > 0 && pair[..eq] == "service.instance.id")
            {
                return pair[(eq + 1)..];
            }
        }

        return $"{Environment.MachineName}-{Environment.ProcessId}";
    }

    /// <summary>Routes the host's <see cref="ILogger"/>s into the SDK's log pipeline.</summary>
    private sealed class SdkLoggerProvider(ILoggerFactory factory) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

        public void Dispose()
        {
            // The factory belongs to the SDK, which the host disposes.
        }
    }
}
