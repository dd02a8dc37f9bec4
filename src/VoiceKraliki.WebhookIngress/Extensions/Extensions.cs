using VoiceKraliki.ServiceDefaults.Messaging;
using VoiceKraliki.ServiceDefaults.Redis;
using VoiceKraliki.Telephony;

namespace VoiceKraliki.WebhookIngress.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<TelephonyOptions>(TelephonyOptions.SectionName);
        builder.AddRedis();
        builder.AddEventBus();
    }
}
