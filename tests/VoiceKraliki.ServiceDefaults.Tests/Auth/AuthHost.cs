using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using VoiceKraliki.ServiceDefaults.Auth;
using VoiceKraliki.ServiceDefaults.Tests.Support;

namespace VoiceKraliki.ServiceDefaults.Tests.Auth;

/// <summary>One real service per test class with an API key per role and a JWT signing key.</summary>
public sealed class AuthHost : IAsyncLifetime
{
    public const string OperatorKey = "vk_test_operator_0123456789";
    public const string ComplianceKey = "vk_test_compliance_0123456789";
    public const string ServiceKey = "vk_test_service_0123456789";
    public const string AdminKey = "vk_test_admin_0123456789";
    public const string MultiRoleKey = "vk_test_multi_0123456789";
    public const string Issuer = "https://issuer.voicekraliki.test";
    public const string Audience = "voicekraliki-api";

    /// <summary>64 bytes: long enough that a test can also sign HS384/HS512 with the right key.</summary>
    public static readonly byte[] SigningKey = Enumerable.Range(1, 64).Select(i => (byte)(i * 7)).ToArray();

    /// <summary>Paths of endpoints that require each policy.</summary>
    public static readonly IReadOnlyDictionary<string, string> PolicyPaths = new Dictionary<string, string>
    {
        [Policies.Operator] = "/api/test/operator",
        [Policies.ComplianceOfficer] = "/api/test/compliance",
        [Policies.Service] = "/api/test/service",
        [Policies.Admin] = "/api/test/admin",
    };

    public static Dictionary<string, string?> Settings() => new()
    {
        ["Auth:ApiKeys:0:Key"] = OperatorKey,
        ["Auth:ApiKeys:0:Roles"] = "operator",
        ["Auth:ApiKeys:0:Name"] = "night-shift-operator",
        ["Auth:ApiKeys:1:Key"] = ComplianceKey,
        ["Auth:ApiKeys:1:Roles"] = "compliance-officer",
        ["Auth:ApiKeys:2:Key"] = ServiceKey,
        ["Auth:ApiKeys:2:Roles"] = "service",
        ["Auth:ApiKeys:3:Key"] = AdminKey,
        ["Auth:ApiKeys:3:Roles"] = "admin",
        ["Auth:ApiKeys:4:Key"] = MultiRoleKey,
        ["Auth:ApiKeys:4:Roles"] = " operator , service ",
        ["Auth:Jwt:SigningKey"] = Convert.ToBase64String(SigningKey),
        ["Auth:Jwt:Issuer"] = Issuer,
        ["Auth:Jwt:Audience"] = Audience,
        ["OTEL_SERVICE_NAME"] = "auth-test",
        ["OTEL_RESOURCE_ATTRIBUTES"] = "deployment.environment=test,service.instance.id=auth-test-1",
    };

    public static void MapProtectedEndpoints(WebApplication app)
    {
        app.MapServiceInfoApi("/api/test");
        foreach (var (policy, path) in PolicyPaths)
        {
            app.MapGet(path, () => TypedResults.Ok(policy)).RequireAuthorization(policy);
        }
    }

    public ServiceHost Host { get; private set; } = null!;

    public HttpClient Client => Host.Client;

    public async Task InitializeAsync() => Host = await ServiceHost.StartAsync(Settings(), map: MapProtectedEndpoints);

    public async Task DisposeAsync() => await Host.DisposeAsync();
}
