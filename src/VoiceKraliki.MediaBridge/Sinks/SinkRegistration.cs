using Microsoft.Extensions.DependencyInjection.Extensions;
using VoiceKraliki.MediaBridge.Sinks.Agent;
using VoiceKraliki.MediaBridge.Sinks.Recording;

namespace VoiceKraliki.MediaBridge.Sinks;

internal static class SinkRegistration
{
    /// <summary>
    /// The recorder (behind the recording policy <c>Recording:Policy</c> chooses, which in <c>Compliance</c> mode asks
    /// the compliance service through the named <see cref="ComplianceRecordingPolicy.HttpClientName"/> client) and the
    /// agent bridge, with their options validated at start. The recording deletion consumers are found with the
    /// assembly's other consumers. An <see cref="IRecordingPolicy"/> registered before this call replaces the configured one.
    /// </summary>
    public static void AddMediaSinks(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<RecordingOptions>(RecordingOptions.SectionName);
        builder.AddValidatedOptions<AgentOptions>(AgentOptions.SectionName);

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHttpClient(ComplianceRecordingPolicy.HttpClientName, client => client.BaseAddress = ComplianceRecordingPolicy.BaseAddress);
        builder.Services.TryAddSingleton<ComplianceRecordingPolicy>();
        builder.Services.TryAddSingleton<IRecordingPolicy, ConfiguredRecordingPolicy>();
        builder.Services.AddSingleton<RecordingStore>();
        builder.Services.AddSingleton<IMediaSinkFactory, RecorderSinkFactory>();
        builder.Services.AddSingleton<IMediaSinkFactory, AgentSinkFactory>();
    }
}
