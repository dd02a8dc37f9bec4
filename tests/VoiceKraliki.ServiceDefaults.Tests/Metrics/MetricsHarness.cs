using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using VoiceKraliki.ServiceDefaults.Metrics;

namespace VoiceKraliki.ServiceDefaults.Tests.Metrics;

/// <summary>
/// A MeterProvider with a Prometheus exposition that listens only to this test's meters (every
/// meter whose name starts with <see cref="Prefix"/>), so tests running in parallel never see each
/// other's instruments.
/// </summary>
internal sealed class MetricsHarness : IDisposable
{
    private readonly List<Meter> _meters = [];

    public MetricsHarness(Action<MeterProviderBuilder>? configure = null)
    {
        Prefix = "VoiceKraliki.Tests." + Guid.NewGuid().ToString("N");
        Exposition = new PrometheusExposition();
        var builder = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("metrics-test", serviceInstanceId: "instance-1"))
            .AddMeter(Prefix + "*")
            .AddPrometheusExposition(Exposition);
        configure?.Invoke(builder);
        Provider = builder.Build();
    }

    public string Prefix { get; }

    public PrometheusExposition Exposition { get; }

    public MeterProvider Provider { get; }

    /// <summary>A meter named <see cref="Prefix"/> plus <paramref name="suffix"/>.</summary>
    public Meter Meter(string suffix = "", string? version = null)
    {
        var meter = new Meter(Prefix + suffix, version);
        _meters.Add(meter);
        return meter;
    }

    public PrometheusDocument Scrape() => PrometheusTextParser.Parse(Exposition.Scrape());

    public void Dispose()
    {
        Provider.Dispose();
        foreach (var meter in _meters)
        {
            meter.Dispose();
        }
    }
}
