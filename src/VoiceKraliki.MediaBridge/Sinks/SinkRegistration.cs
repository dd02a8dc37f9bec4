using Microsoft.Extensions.DependencyInjection.Extensions;
using VoiceKraliki.MediaBridge.Sinks.Agent;
using VoiceKraliki.MediaBridge.Sinks.Recording;

namespace VoiceKraliki.MediaBridge.Sinks;

internal static class SinkRegistration
{
    /// <summary>
    /// The recorder (behind the recording policy) and the agent bridge, with their options validated at start. The
    /// recording deletion consumers are found with the assembly's other consumers. A compliance-backed
    /// <see cref="IRecordingPolicy"/> registered before this call replaces the configured one.
    /// </summary>
    public static void AddMediaSinks(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<RecordingOptions>(RecordingOptions.SectionName);
        builder.AddValidatedOptions<AgentOptions>(AgentOptions.SectionName);

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<IRecordingPolicy, ConfiguredRecordingPolicy>();
        builder.Services.AddSingleton<RecordingStore>();
        builder.Services.AddSingleton<IMediaSinkFactory, RecorderSinkFactory>();
        builder.Services.AddSingleton<IMediaSinkFactory, AgentSinkFactory>();
    }
}
