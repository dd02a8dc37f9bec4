using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using VoiceKraliki.Contracts;
using VoiceKraliki.WebhookIngress.Security;

namespace VoiceKraliki.WebhookIngress.Tests.Security;

public class WebhookSecurityMetricsTests
{
    [Fact]
    public void Rejections_are_counted_with_provider_layer_and_reason_and_the_fallback_gauge_reads_zero_on_redis()
    {
        using var host = SecurityHost.Build("127.0.0.1:1");
        var metrics = host.Services.GetRequiredService<WebhookSecurityMetrics>();
        var meter = host.Services.GetRequiredService<IMeterFactory>().Create(WebhookSecurityMetrics.MeterName);
        var measurements = new List<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
            measurements.Add((instrument.Name, value, tags.ToArray().ToDictionary(t => t.Key, t => t.Value))));
        listener.Start();

        metrics.Rejected(TelephonyProvider.Telnyx, RejectionLayers.Allowlist, "not-allowed");
        listener.RecordObservableInstruments();

        var rejection = Assert.Single(measurements, m => m.Instrument == "telephony_webhook_rejections_total");
        Assert.Equal(1, rejection.Value);
        Assert.Equal("telnyx", rejection.Tags["provider"]);
        Assert.Equal("allowlist", rejection.Tags["layer"]);
        Assert.Equal("not-allowed", rejection.Tags["reason"]);
        var gauges = measurements.Where(m => m.Instrument == "telephony_webhook_security_fallback").ToArray();
        Assert.Equal(["rate-limit", "replay"], gauges.Select(g => (string)g.Tags["layer"]!).Order());
        Assert.All(gauges, g => Assert.Equal(0, g.Value));
    }
}
