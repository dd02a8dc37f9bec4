using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.ServiceDefaults.Tests.Auth;

public class ApiKeyAuthenticationTests(AuthHost host) : IClassFixture<AuthHost>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private async Task<HttpResponseMessage> GetAsync(string path, params string[] apiKeys)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var key in apiKeys)
        {
            request.Headers.Add(ApiKeyAuthenticationHandler.HeaderName, key);
        }

        using var cts = new CancellationTokenSource(Timeout);
        return await host.Client.SendAsync(request, cts.Token);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal((int)status, json.RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task A_request_without_credentials_gets_401_problem_details()
    {
        using var response = await GetAsync("/api/test/info");
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_unknown_api_key_gets_401_problem_details()
    {
        using var response = await GetAsync("/api/test/info", "vk_test_not_a_configured_key");
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_known_key_with_a_changed_last_character_gets_401()
    {
        using var response = await GetAsync("/api/test/info", AuthHost.OperatorKey[..^1] + "X");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task An_empty_api_key_header_gets_401()
    {
        using var response = await GetAsync("/api/test/info", "");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Two_api_key_headers_get_401_even_when_one_is_valid()
    {
        using var response = await GetAsync("/api/test/info", AuthHost.AdminKey, "vk_test_not_a_configured_key");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_valid_key_reaches_the_info_endpoint_which_names_the_service_instance_and_caller()
    {
        using var response = await GetAsync("/api/test/info", AuthHost.OperatorKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var info = await response.Content.ReadFromJsonAsync<ServiceInfoApi.ServiceInfo>();
        Assert.NotNull(info);
        Assert.Equal("auth-test", info.Service);
        Assert.Equal("auth-test-1", info.Instance);
        Assert.Equal("night-shift-operator", info.Subject);
        Assert.Equal(ApiKeyAuthenticationHandler.SchemeName, info.AuthenticatedBy);
        Assert.Equal(["operator"], info.Roles);
    }

    [Fact]
    public async Task A_key_without_a_name_is_identified_without_revealing_the_key()
    {
        using var response = await GetAsync("/api/test/info", AuthHost.ServiceKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        var info = JsonSerializer.Deserialize<ServiceInfoApi.ServiceInfo>(body, JsonSerializerOptions.Web);
        Assert.NotNull(info?.Subject);
        Assert.StartsWith("api-key-", info.Subject);
        Assert.DoesNotContain(AuthHost.ServiceKey, body);
        Assert.Equal(["service"], info.Roles);
    }

    [Fact]
    public async Task Comma_separated_roles_with_spaces_are_all_granted()
    {
        using var info = await GetAsync("/api/test/info", AuthHost.MultiRoleKey);
        var body = await info.Content.ReadFromJsonAsync<ServiceInfoApi.ServiceInfo>();
        Assert.Equal(["operator", "service"], body?.Roles ?? []);

        using var operatorEndpoint = await GetAsync(AuthHost.PolicyPaths[Policies.Operator], AuthHost.MultiRoleKey);
        using var serviceEndpoint = await GetAsync(AuthHost.PolicyPaths[Policies.Service], AuthHost.MultiRoleKey);
        using var complianceEndpoint = await GetAsync(AuthHost.PolicyPaths[Policies.ComplianceOfficer], AuthHost.MultiRoleKey);
        Assert.Equal(HttpStatusCode.OK, operatorEndpoint.StatusCode);
        Assert.Equal(HttpStatusCode.OK, serviceEndpoint.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, complianceEndpoint.StatusCode);
    }

    [Theory]
    [InlineData(AuthHost.OperatorKey, Policies.Operator, HttpStatusCode.OK)]
    [InlineData(AuthHost.OperatorKey, Policies.ComplianceOfficer, HttpStatusCode.Forbidden)]
    [InlineData(AuthHost.OperatorKey, Policies.Service, HttpStatusCode.Forbidden)]
    [InlineData(AuthHost.OperatorKey, Policies.Admin, HttpStatusCode.Forbidden)]
    [InlineData(AuthHost.ComplianceKey, Policies.ComplianceOfficer, HttpStatusCode.OK)]
    [InlineData(AuthHost.ComplianceKey, Policies.Operator, HttpStatusCode.Forbidden)]
    [InlineData(AuthHost.ComplianceKey, Policies.Admin, HttpStatusCode.Forbidden)]
    [InlineData(AuthHost.ServiceKey, Policies.Service, HttpStatusCode.OK)]
    [InlineData(AuthHost.ServiceKey, Policies.Operator, HttpStatusCode.Forbidden)]
    [InlineData(AuthHost.ServiceKey, Policies.ComplianceOfficer, HttpStatusCode.Forbidden)]
    public async Task A_role_policy_admits_its_role_and_forbids_the_others(string key, string policy, HttpStatusCode expected)
    {
        using var response = await GetAsync(AuthHost.PolicyPaths[policy], key);
        if (expected == HttpStatusCode.OK)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(policy, await response.Content.ReadFromJsonAsync<string>());
        }
        else
        {
            await AssertProblemAsync(response, expected);
        }
    }

    [Theory]
    [InlineData(Policies.Operator)]
    [InlineData(Policies.ComplianceOfficer)]
    [InlineData(Policies.Service)]
    [InlineData(Policies.Admin)]
    public async Task Admin_passes_every_role_policy(string policy)
    {
        using var response = await GetAsync(AuthHost.PolicyPaths[policy], AuthHost.AdminKey);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData(Policies.Operator)]
    [InlineData(Policies.ComplianceOfficer)]
    [InlineData(Policies.Service)]
    [InlineData(Policies.Admin)]
    public async Task Every_role_policy_answers_401_without_credentials(string policy)
    {
        using var response = await GetAsync(AuthHost.PolicyPaths[policy]);
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("/alive")]
    [InlineData("/health")]
    [InlineData("/metrics")]
    public async Task Default_endpoints_need_no_credentials(string path)
    {
        using var response = await GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
