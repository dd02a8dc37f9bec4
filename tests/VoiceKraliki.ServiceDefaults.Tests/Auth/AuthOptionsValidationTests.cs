using Microsoft.Extensions.Options;
using VoiceKraliki.ServiceDefaults.Tests.Support;

namespace VoiceKraliki.ServiceDefaults.Tests.Auth;

/// <summary>A bad Auth setting must stop the service at start with a message that names the key.</summary>
public class AuthOptionsValidationTests
{
    private static async Task<string> StartFailureAsync(Dictionary<string, string?> settings)
    {
        var app = ServiceHost.Build(settings, map: AuthHost.MapProtectedEndpoints);
        await using (app)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync(timeout.Token));
            return string.Join(" | ", exception.Failures.Prepend(exception.Message));
        }
    }

    [Fact]
    public async Task The_valid_settings_used_by_these_tests_start()
    {
        await using var host = await ServiceHost.StartAsync(AuthHost.Settings(), map: AuthHost.MapProtectedEndpoints);
        using var response = await host.Client.GetAsync("/alive");
        Assert.True(response.IsSuccessStatusCode);
    }

    [Fact]
    public async Task No_auth_settings_at_all_start_and_every_api_request_is_401()
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?>(), map: AuthHost.MapProtectedEndpoints);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/test/info");
        request.Headers.Add("X-Api-Key", AuthHost.AdminKey);
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_jwt_signing_key_of_exactly_32_bytes_is_accepted_and_validates_tokens()
    {
        var key = Enumerable.Range(0, 32).Select(i => (byte)(255 - i)).ToArray();
        var settings = AuthHost.Settings();
        settings["Auth:Jwt:SigningKey"] = Convert.ToBase64String(key);
        await using var host = await ServiceHost.StartAsync(settings, map: AuthHost.MapProtectedEndpoints);

        var now = DateTime.UtcNow;
        var token = new Microsoft.IdentityModel.JsonWebTokens.JsonWebTokenHandler().CreateToken(new Microsoft.IdentityModel.Tokens.SecurityTokenDescriptor
        {
            Issuer = AuthHost.Issuer,
            Audience = AuthHost.Audience,
            Claims = new Dictionary<string, object> { ["sub"] = "bob", ["role"] = "service" },
            NotBefore = now.AddMinutes(-1),
            Expires = now.AddMinutes(5),
            SigningCredentials = new Microsoft.IdentityModel.Tokens.SigningCredentials(
                new Microsoft.IdentityModel.Tokens.SymmetricSecurityKey(key), Microsoft.IdentityModel.Tokens.SecurityAlgorithms.HmacSha256),
        });
        using var request = new HttpRequestMessage(HttpMethod.Get, AuthHost.PolicyPaths[VoiceKraliki.ServiceDefaults.Auth.Policies.Service]);
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("fifteen_chars_x")]
    public async Task An_api_key_shorter_than_16_characters_stops_the_service_naming_Auth_ApiKeys(string key)
    {
        var settings = AuthHost.Settings();
        settings["Auth:ApiKeys:2:Key"] = key;
        var message = await StartFailureAsync(settings);
        Assert.Contains("Auth:ApiKeys", message);
        Assert.Contains("16", message);
    }

    [Theory]
    [InlineData("superuser")]
    [InlineData("operator,root")]
    [InlineData("Admin")]
    [InlineData("")]
    [InlineData(" , ")]
    public async Task An_api_key_with_an_unknown_or_missing_role_stops_the_service_naming_Auth_ApiKeys(string roles)
    {
        var settings = AuthHost.Settings();
        settings["Auth:ApiKeys:1:Roles"] = roles;
        var message = await StartFailureAsync(settings);
        Assert.Contains("Auth:ApiKeys", message);
        Assert.Contains("Roles", message);
    }

    [Theory]
    [InlineData("bm90IGxvbmcgZW5vdWdo")] // "not long enough": 15 bytes
    [InlineData("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==")] // 31 bytes
    [InlineData("this is not base64!")]
    public async Task A_jwt_signing_key_that_is_not_base64_of_32_bytes_stops_the_service_naming_the_key(string signingKey)
    {
        var settings = AuthHost.Settings();
        settings["Auth:Jwt:SigningKey"] = signingKey;
        var message = await StartFailureAsync(settings);
        Assert.Contains("Auth:Jwt:SigningKey", message);
    }
}
