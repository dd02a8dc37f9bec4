using Microsoft.Extensions.Diagnostics.HealthChecks;
using VoiceKraliki.ServiceDefaults.Messaging;
using VoiceKraliki.ServiceDefaults.Redis;
using VoiceKraliki.Telephony;
using VoiceKraliki.WebhookIngress.Security;
using VoiceKraliki.WebhookIngress.Webhooks;

namespace VoiceKraliki.WebhookIngress.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<TelephonyOptions>(TelephonyOptions.SectionName);
        builder.AddValidatedOptions<WebhookOptions>(WebhookOptions.SectionName);
        builder.AddValidatedOptions<WebhookTrafficOptions>(WebhookTrafficOptions.SectionName);
        // Without Redis, webhooks are still taken (limits and replay protection per replica, in memory):
        // the service reports Degraded and stays in rotation.
        builder.AddRedis(failureStatus: HealthStatus.Degraded);
        builder.AddEventBus();
        builder.AddWebhookSecurity();

        builder.Services.AddSingleton<WebhookMetrics>();
        builder.Services.AddSingleton<PublicUrl>();
        builder.Services.AddSingleton<VoiceResponder>();
        builder.Services.AddSingleton<WebhookPipeline>();
        builder.Services.AddSingleton<RejectionPublisher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RejectionPublisher>());
        builder.Services.AddSingleton<WebhookTrafficReporter>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<WebhookTrafficReporter>());
    }
}
