using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace VoiceKraliki.AppHost.Credentials;

/// <summary>Mints the local operator's HS256 token with the generated signing key.</summary>
public static class DevTokenIssuer
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    public static string MintOperatorToken(string signingKeyBase64, string issuer, string audience, DateTimeOffset now)
    {
        var key = new SymmetricSecurityKey(Convert.FromBase64String(signingKeyBase64));
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.Add(Lifetime).UtcDateTime,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = "local-operator",
                ["role"] = "operator",
            },
            SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }
}
