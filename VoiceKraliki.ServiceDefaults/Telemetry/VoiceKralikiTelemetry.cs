using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace VoiceKraliki.ServiceDefaults.Telemetry;

/// <summary>Names for our own activity sources and meters; services add a suffix per feature.</summary>
public static class VoiceKralikiTelemetry
{
    public const string SourceName = "VoiceKraliki";

    public static readonly ActivitySource ActivitySource = new(SourceName);

    public static readonly Meter Meter = new(SourceName);
}
