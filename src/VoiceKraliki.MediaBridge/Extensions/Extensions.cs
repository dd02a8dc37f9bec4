using MassTransit;
using VoiceKraliki.MediaBridge.Apis;
using VoiceKraliki.ServiceDefaults.Messaging;
using VoiceKraliki.Telephony;

namespace VoiceKraliki.MediaBridge.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<TelephonyOptions>(TelephonyOptions.SectionName);
        builder.AddValidatedOptions<MediaStreamOptions>(MediaStreamOptions.SectionName);
        builder.AddEventBus(bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.Services.AddSingleton<MediaStreamMetrics>();
    }
}
