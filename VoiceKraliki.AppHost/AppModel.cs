using VoiceKraliki.AppHost.Model;

namespace VoiceKraliki.AppHost;

/// <summary>The VoiceKraliki application: its servers, its services, and what each one is given.</summary>
public static class AppModel
{
    public const string GatewayName = "gateway";
    public const string WebhookIngressName = "webhook-ingress";
    public const string MediaBridgeName = "media-bridge";
    public const string CallStateName = "call-state";
    public const string ComplianceName = "compliance";
    public const string AlertingName = "alerting";

    private const string Telephony = "Telephony";
    private const string WebhookSecurity = "WebhookSecurity";
    private const string Auth = "Auth";
    private const string Webhooks = "Webhooks";
    private const string MediaStreams = "MediaStreams";
    private const string Recording = "Recording";
    private const string Agent = "Agent";
    private const string Compliance = "Compliance";
    private const string Alerting = "Alerting";

    public static void Configure(IDistributedApplicationBuilder builder)
    {
        var postgres = builder.AddPostgres("postgres");
        var callStateDb = postgres.AddDatabase("postgres-call-state", "callstate");
        var complianceDb = postgres.AddDatabase("postgres-compliance", "compliance");
        var alertingDb = postgres.AddDatabase("postgres-alerting", "alerting");
        var redis = builder.AddRedis("redis");
        var messaging = builder.AddRabbitMQ("messaging");

        var gateway = builder.AddProject(GatewayName, "VoiceKraliki.Gateway")
            .WithFixedPort(builder.Options.GatewayPort);

        var webhookIngress = builder.AddProject(WebhookIngressName, "VoiceKraliki.WebhookIngress")
            .WithReplicas(2)
            .WithReferenceAndWait(redis, messaging)
            .WithConfigurationSection(Telephony)
            .WithPublicBaseUrlDefault(gateway)
            .WithConfigurationSection(WebhookSecurity)
            .WithConfigurationSection(Webhooks)
            .WithLocalWebhookAccess();

        var mediaBridge = builder.AddProject(MediaBridgeName, "VoiceKraliki.MediaBridge")
            .WithReferenceAndWait(messaging)
            .WithConfigurationSection(Telephony)
            .WithConfigurationSection(MediaStreams)
            .WithConfigurationSection(Recording)
            .WithStateFolderDefault("Recording__Directory", "recordings")
            .WithConfigurationSection(Agent)
            .WithPublicBaseUrlDefault(gateway);

        var callState = builder.AddProject(CallStateName, "VoiceKraliki.CallState")
            .WithReferenceAndWait(callStateDb, redis, messaging)
            .WithConfigurationSection(Telephony)
            .WithPublicBaseUrlDefault(gateway);

        var compliance = builder.AddProject(ComplianceName, "VoiceKraliki.Compliance")
            .WithReferenceAndWait(complianceDb, redis, messaging)
            .WithConfigurationSection(Compliance);

        var alerting = builder.AddProject(AlertingName, "VoiceKraliki.Alerting")
            .WithReferenceAndWait(alertingDb, messaging)
            .WithConfigurationSection(Alerting);

        // Recording:Policy=Compliance asks compliance about every stream. Referenced, not waited for: media-bridge
        // serves streams without it and records nothing while compliance cannot answer.
        mediaBridge.WithReference(compliance);

        gateway
            .WithReferenceAndWait(webhookIngress, mediaBridge, callState, compliance, alerting)
            .WithProxyRoute("webhooks", webhookIngress, "/webhooks/{**catch-all}")
            .WithProxyRoute("media", mediaBridge, "/media/{**catch-all}")
            .WithProxyRoute("calls", callState, "/api/calls/{**catch-all}")
            .WithProxyRoute("campaigns", callState, "/api/campaigns/{**catch-all}")
            .WithProxyRoute("flows", callState, "/api/flows/{**catch-all}")
            .WithProxyRoute("compliance", compliance, "/api/compliance/{**catch-all}")
            .WithProxyRoute("alerts", alerting, "/api/alerts/{**catch-all}")
            // A media stream lasts as long as the call.
            .WithProxyClusterSetting(mediaBridge, "HttpRequest:ActivityTimeout", "00:30:00");

        foreach (var service in new[] { gateway, webhookIngress, mediaBridge, callState, compliance, alerting })
        {
            service.WithConfigurationSection(Auth);
        }
    }
}
