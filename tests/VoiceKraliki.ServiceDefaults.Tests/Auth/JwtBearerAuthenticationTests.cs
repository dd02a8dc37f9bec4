using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.ServiceDefaults.Tests.Auth;

public class JwtBearerAuthenticationTests(AuthHost host) : IClassFixture<AuthHost>
{
    private static string Mint(
        object? role = null,
        string issuer = AuthHost.Issuer,
        string audience = AuthHost.Audience,
        byte[]? key = null,
        string algorithm = SecurityAlgorithms.HmacSha256,
        TimeSpan? expiresIn = null)
    {
        var now = DateTime.UtcNow;
        var expires = now + (expiresIn ?? TimeSpan.FromMinutes(5));
        var claims = new Dictionary<string, object> { ["sub"] = "alice" };
        if (role is not null)
        {
            claims["role"] = role;
        }

        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = expires.AddMinutes(-10),
            NotBefore = expires.AddMinutes(-10),
            Expires = expires,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? AuthHost.SigningKey), algorithm),
        });
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        return await host.Client.SendAsync(request, cts.Token);
    }

    private static string Base64Url(string json) =>
        Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));

    [Fact]
    public async Task A_valid_token_is_accepted_and_its_subject_and_roles_are_the_caller()
    {
        using var response = await GetAsync("/api/test/info", Mint(role: "operator"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var info = await response.Content.ReadFromJsonAsync<ServiceInfoApi.ServiceInfo>();
        Assert.Equal("alice", info?.Subject);
        Assert.Equal(["operator"], info?.Roles ?? []);
    }

    [Fact]
    public async Task A_token_without_roles_passes_the_authenticated_policy_only()
    {
        var token = Mint();
        using var info = await GetAsync("/api/test/info", token);
        using var operatorEndpoint = await GetAsync(AuthHost.PolicyPaths[Policies.Operator], token);

        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, operatorEndpoint.StatusCode);
    }

    [Fact]
    public async Task An_expired_token_gets_401()
    {
        // Well past the 30 s clock skew the validator allows.
        using var response = await GetAsync("/api/test/info", Mint(role: "admin", expiresIn: TimeSpan.FromMinutes(-2)));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_token_signed_with_another_key_gets_401()
    {
        var otherKey = AuthHost.SigningKey.Select(b => (byte)(b ^ 0x5A)).ToArray();
        using var response = await GetAsync("/api/test/info", Mint(role: "admin", key: otherKey));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_token_for_another_audience_gets_401()
    {
        using var response = await GetAsync("/api/test/info", Mint(role: "admin", audience: "someone-else"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_token_from_another_issuer_gets_401()
    {
        using var response = await GetAsync("/api/test/info", Mint(role: "admin", issuer: "https://evil.example"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData(SecurityAlgorithms.HmacSha384)]
    [InlineData(SecurityAlgorithms.HmacSha512)]
    public async Task A_token_signed_with_the_right_key_but_another_algorithm_gets_401(string algorithm)
    {
        // Only HS256 is accepted for locally issued tokens, even when signed with the right key.
        using var response = await GetAsync("/api/test/info", Mint(role: "admin", algorithm: algorithm));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_unsigned_token_gets_401()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = Base64Url("""{"alg":"none","typ":"JWT"}""");
        var payload = Base64Url(
            $$"""{"sub":"mallory","role":"admin","iss":"{{AuthHost.Issuer}}","aud":"{{AuthHost.Audience}}","nbf":{{now - 60}},"exp":{{now + 300}}}""");
        using var response = await GetAsync("/api/test/info", $"{header}.{payload}.");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_token_with_a_tampered_payload_gets_401()
    {
        var parts = Mint(role: "operator").Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("\"operator\"", "\"admin\"");
        Assert.Contains("\"admin\"", payload);
        using var response = await GetAsync(AuthHost.PolicyPaths[Policies.Admin], $"{parts[0]}.{Base64Url(payload)}.{parts[2]}");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Garbage_in_the_bearer_header_gets_401()
    {
        using var response = await GetAsync("/api/test/info", "not-a-jwt");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Operator_role_passes_the_operator_policy_and_fails_compliance_officer()
    {
        var token = Mint(role: "operator");
        using var operatorEndpoint = await GetAsync(AuthHost.PolicyPaths[Policies.Operator], token);
        using var complianceEndpoint = await GetAsync(AuthHost.PolicyPaths[Policies.ComplianceOfficer], token);

        Assert.Equal(HttpStatusCode.OK, operatorEndpoint.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, complianceEndpoint.StatusCode);
        Assert.Equal("application/problem+json", complianceEndpoint.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_role_array_grants_every_listed_role()
    {
        var token = Mint(role: new[] { "compliance-officer", "service" });
        using var compliance = await GetAsync(AuthHost.PolicyPaths[Policies.ComplianceOfficer], token);
        using var service = await GetAsync(AuthHost.PolicyPaths[Policies.Service], token);
        using var operatorEndpoint = await GetAsync(AuthHost.PolicyPaths[Policies.Operator], token);

        Assert.Equal(HttpStatusCode.OK, compliance.StatusCode);
        Assert.Equal(HttpStatusCode.OK, service.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, operatorEndpoint.StatusCode);
    }

    [Theory]
    [InlineData(Policies.Operator)]
    [InlineData(Policies.ComplianceOfficer)]
    [InlineData(Policies.Service)]
    [InlineData(Policies.Admin)]
    public async Task Admin_role_in_a_token_passes_every_role_policy(string policy)
    {
        using var response = await GetAsync(AuthHost.PolicyPaths[policy], Mint(role: "admin"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_role_claim_under_another_claim_name_grants_nothing()
    {
        // Only the "role" claim carries roles; "roles" (plural) must not be read as one.
        var now = DateTime.UtcNow;
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = AuthHost.Issuer,
            Audience = AuthHost.Audience,
            Claims = new Dictionary<string, object> { ["sub"] = "alice", ["roles"] = "admin" },
            NotBefore = now.AddMinutes(-1),
            Expires = now.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(AuthHost.SigningKey), SecurityAlgorithms.HmacSha256),
        });
        using var info = await GetAsync("/api/test/info", token);
        using var admin = await GetAsync(AuthHost.PolicyPaths[Policies.Admin], token);

        Assert.Equal(HttpStatusCode.OK, info.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
    }
}
