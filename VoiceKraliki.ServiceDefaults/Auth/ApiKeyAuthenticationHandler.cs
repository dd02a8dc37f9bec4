using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.ServiceDefaults.Auth;

/// <summary>Authenticates <c>X-Api-Key</c> against the configured keys, comparing in constant time.</summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptionsMonitor<AuthOptions> authOptions)
    : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-Api-Key";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(HeaderName, out var values))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (values.Count != 1 || string.IsNullOrEmpty(values[0]))
        {
            return Task.FromResult(AuthenticateResult.Fail("Exactly one X-Api-Key header is expected."));
        }

        var presented = SHA256.HashData(Encoding.UTF8.GetBytes(values[0]!));
        ApiKeyOptions? match = null;
        foreach (var key in authOptions.CurrentValue.ApiKeys)
        {
            var expected = SHA256.HashData(Encoding.UTF8.GetBytes(key.Key));
            // Every key is compared so the time taken does not reveal which one nearly matched.
            if (CryptographicOperations.FixedTimeEquals(presented, expected))
            {
                match = key;
            }
        }

        if (match is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("Unknown API key."));
        }

        var identity = new ClaimsIdentity(SchemeName, "sub", Roles.ClaimType);
        identity.AddClaim(new Claim("sub", match.Name ?? $"api-key-{Convert.ToHexString(presented, 0, 4).ToLowerInvariant()}"));
        foreach (var role in match.RoleList)
        {
            identity.AddClaim(new Claim(Roles.ClaimType, role));
        }

        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }
}
