namespace VoiceKraliki.AppHost.Dashboard;

/// <summary>What the developer needs at start: where things are, and the generated local credentials (printed on purpose).</summary>
internal static class Banner
{
    public static IEnumerable<string> Lines(DistributedApplication app)
    {
        yield return $"VoiceKraliki AppHost. State: {app.StateDirectory}  Logs: {Path.Combine(app.StateDirectory, "logs")}";
        var gateway = app.GatewayEndpoint?.GetLeftPart(UriPartial.Authority);
        if (gateway is not null)
        {
            yield return $"Gateway: {gateway}   (operator console: {gateway}/ops)";
        }

        if (app.DevApiKey is not null || app.DevOperatorJwt is not null)
        {
            yield return $"Development credentials (generated for local use only; kept in {app.DevCredentials.FilePath}):";
            var target = $"{gateway ?? "http://127.0.0.1:8080"}/api/calls/info";
            if (app.DevApiKey is { } key)
            {
                yield return $"  API key (admin):             {key}";
                yield return $"    curl -H \"X-Api-Key: {key}\" {target}";
            }

            if (app.DevOperatorJwt is { } token)
            {
                yield return $"  Operator token (JWT, 12 h):  {token}";
                yield return $"    curl -H \"Authorization: Bearer {token}\" {target}";
            }
        }

        if (app.GetResources().Any(r => r.Name == AppModel.WebhookIngressName))
        {
            yield return $"Webhooks: loopback ({string.Join(", ", Model.ResourceBuilderExtensions.LocalWebhookRanges)}) added to every provider allowlist for local tools and the simulator.";
        }

        yield return "Ctrl-C stops everything.";
        yield return "";
    }
}
