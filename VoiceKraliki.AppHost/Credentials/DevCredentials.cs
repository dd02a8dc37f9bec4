using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using VoiceKraliki.AppHost.Infrastructure;

namespace VoiceKraliki.AppHost.Credentials;

/// <summary>The admin and service API keys and the signing keys generated for local use, kept in <c>dev-credentials.json</c>.</summary>
public sealed class DevCredentials
{
    public const string FileName = "dev-credentials.json";
    public const string ApiKeyPrefix = "vk_dev_";
    public const string Issuer = "voicekraliki-local";
    public const string Audience = "voicekraliki";

    public string? ApiKey { get; set; }

    /// <summary>The key services call each other's APIs with (role <c>service</c>): media-bridge asks compliance with it.</summary>
    public string? ServiceApiKey { get; set; }

    public string? JwtSigningKey { get; set; }

    /// <summary>Shared by webhook-ingress (signs media-stream tokens into TwiML) and media-bridge (checks them).</summary>
    public string? StreamTokenSigningKey { get; set; }

    /// <summary>The compliance service's key for hashing phone numbers (<c>Compliance:SubjectKey</c>).</summary>
    public string? ComplianceSubjectKey { get; set; }

    /// <summary>The alerting service's key for sealing channel secrets (<c>Alerting:SecretKey</c>).</summary>
    public string? AlertingSecretKey { get; set; }

    /// <summary>Reads the file and generates (and saves) whichever key is needed but missing.</summary>
    public static DevCredentials LoadOrCreate(
        string path, bool needApiKey, bool needSigningKey, bool needStreamKey = false, bool needSubjectKey = false, bool needServiceKey = false,
        bool needAlertingKey = false) =>
        SecretFile.LoadOrCreate<DevCredentials>(
            path,
            c => (needApiKey && c.ApiKey is null) || (needSigningKey && c.JwtSigningKey is null) || (needStreamKey && c.StreamTokenSigningKey is null)
                 || (needSubjectKey && c.ComplianceSubjectKey is null) || (needServiceKey && c.ServiceApiKey is null)
                 || (needAlertingKey && c.AlertingSecretKey is null),
            c => new DevCredentials
            {
                ApiKey = c.ApiKey ?? (needApiKey ? ApiKeyPrefix + SecretFile.Base64Url(RandomNumberGenerator.GetBytes(32)) : null),
                ServiceApiKey = c.ServiceApiKey ?? (needServiceKey ? ApiKeyPrefix + SecretFile.Base64Url(RandomNumberGenerator.GetBytes(32)) : null),
                JwtSigningKey = c.JwtSigningKey ?? (needSigningKey ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) : null),
                StreamTokenSigningKey = c.StreamTokenSigningKey ?? (needStreamKey ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) : null),
                ComplianceSubjectKey = c.ComplianceSubjectKey ?? (needSubjectKey ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) : null),
                AlertingSecretKey = c.AlertingSecretKey ?? (needAlertingKey ? Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) : null),
            });
}

/// <summary>What the AppHost generated for this run, to print and to hand to tests.</summary>
public sealed record DevCredentialSet(string? ApiKey, string? OperatorJwt, string FilePath);

internal static class DevCredentialSetup
{
    public const string StreamTokenKeyIngress = "Webhooks:Voice:StreamTokenSigningKey";
    public const string StreamTokenKeyMedia = "MediaStreams:TokenSigningKey";
    public const string ComplianceSubjectKey = "Compliance:SubjectKey";
    public const string AlertingSecretKey = "Alerting:SecretKey";
    public const string RecordingComplianceApiKey = "Recording:ComplianceApiKey";

    /// <summary>
    /// Fills in <c>Auth:ApiKeys</c> and <c>Auth:Jwt</c> with generated local credentials where the user configured none,
    /// so that every service gets them through the <c>Auth</c> section. Generated API keys are an admin key (for the
    /// user) and a service key, which media-bridge gets as <c>Recording:ComplianceApiKey</c> unless that is configured.
    /// </summary>
    public static DevCredentialSet Apply(IConfigurationManager configuration, string filePath, TimeProvider time)
    {
        var auth = configuration.GetSection("Auth");
        var needApiKey = !auth.GetSection("ApiKeys").GetChildren().Any();
        var jwt = auth.GetSection("Jwt");
        var needSigningKey = string.IsNullOrWhiteSpace(jwt["SigningKey"]) && string.IsNullOrWhiteSpace(jwt["Authority"]);
        var needStreamKey = string.IsNullOrWhiteSpace(configuration[StreamTokenKeyIngress]) && string.IsNullOrWhiteSpace(configuration[StreamTokenKeyMedia]);
        if (!needStreamKey)
        {
            // One configured, the other not: both services must hold the same key.
            var ingress = configuration[StreamTokenKeyIngress];
            var media = configuration[StreamTokenKeyMedia];
            configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                [StreamTokenKeyIngress] = string.IsNullOrWhiteSpace(ingress) ? media : ingress,
                [StreamTokenKeyMedia] = string.IsNullOrWhiteSpace(media) ? ingress : media,
            });
        }

        var needSubjectKey = string.IsNullOrWhiteSpace(configuration[ComplianceSubjectKey]);
        var needAlertingKey = string.IsNullOrWhiteSpace(configuration[AlertingSecretKey]);
        if (!needApiKey && !needSigningKey && !needStreamKey && !needSubjectKey && !needAlertingKey)
        {
            return new DevCredentialSet(null, null, filePath);
        }

        var credentials = DevCredentials.LoadOrCreate(filePath, needApiKey, needSigningKey, needStreamKey, needSubjectKey, needServiceKey: needApiKey, needAlertingKey);
        var values = new Dictionary<string, string?>();
        if (needSubjectKey)
        {
            values[ComplianceSubjectKey] = credentials.ComplianceSubjectKey;
        }

        if (needAlertingKey)
        {
            values[AlertingSecretKey] = credentials.AlertingSecretKey;
        }

        if (needStreamKey)
        {
            values[StreamTokenKeyIngress] = credentials.StreamTokenSigningKey;
            values[StreamTokenKeyMedia] = credentials.StreamTokenSigningKey;
        }

        if (needApiKey)
        {
            values["Auth:ApiKeys:0:Key"] = credentials.ApiKey;
            values["Auth:ApiKeys:0:Roles"] = "admin";
            values["Auth:ApiKeys:0:Name"] = "local-admin";
            values["Auth:ApiKeys:1:Key"] = credentials.ServiceApiKey;
            values["Auth:ApiKeys:1:Roles"] = "service";
            values["Auth:ApiKeys:1:Name"] = "local-service";
            if (string.IsNullOrWhiteSpace(configuration[RecordingComplianceApiKey]))
            {
                values[RecordingComplianceApiKey] = credentials.ServiceApiKey;
            }
        }

        string? token = null;
        if (needSigningKey)
        {
            var issuer = jwt["Issuer"] ?? DevCredentials.Issuer;
            var audience = jwt["Audience"] ?? DevCredentials.Audience;
            values["Auth:Jwt:SigningKey"] = credentials.JwtSigningKey;
            values["Auth:Jwt:Issuer"] = issuer;
            values["Auth:Jwt:Audience"] = audience;
            token = DevTokenIssuer.MintOperatorToken(credentials.JwtSigningKey!, issuer, audience, time.GetUtcNow());
        }

        configuration.AddInMemoryCollection(values);
        return new DevCredentialSet(needApiKey ? credentials.ApiKey : null, token, filePath);
    }
}
