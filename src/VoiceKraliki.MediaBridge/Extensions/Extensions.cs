using MassTransit;
using Microsoft.Extensions.Options;
using VoiceKraliki.MediaBridge.Quality;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Streams;
using VoiceKraliki.ServiceDefaults.Messaging;
using VoiceKraliki.Telephony;
using VoiceKraliki.Telephony.Media;

namespace VoiceKraliki.MediaBridge.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<TelephonyOptions>(TelephonyOptions.SectionName);
        builder.AddValidatedOptions<MediaStreamOptions>(MediaStreamOptions.SectionName);
        builder.AddEventBus(bus => bus.AddConsumers(typeof(Extensions).Assembly));

        // Media streams: token check, the pipeline's shared parts, metrics and the events it publishes.
        builder.Services.AddSingleton<MediaStreamMetrics>();
        builder.Services.AddSingleton(sp => new StreamTokenService(
            Convert.FromBase64String(sp.GetRequiredService<IOptions<MediaStreamOptions>>().Value.TokenSigningKey!),
            sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<StreamAuthorizer>();
        builder.Services.AddSingleton<MediaEventPublisher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MediaEventPublisher>());
        builder.Services.AddSingleton<MediaStreamServices>();

        // Audio back to the provider leaves on dedicated pacing threads on the real clock; on a test's clock, on its timers.
        builder.Services.AddSingleton<IFramePacer>(sp => sp.GetRequiredService<TimeProvider>() == TimeProvider.System
            ? ActivatorUtilities.CreateInstance<ThreadFramePacer>(sp)
            : new TimerFramePacer(sp.GetRequiredService<TimeProvider>()));

        // The sinks (recorder, AI agent) register their IMediaSinkFactory implementations here.
        builder.AddMediaSinks();
    }
}
