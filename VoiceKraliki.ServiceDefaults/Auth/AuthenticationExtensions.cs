using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace VoiceKraliki.ServiceDefaults.Auth;

public static class AuthenticationExtensions
{
    private const string SelectorScheme = "ApiKeyOrBearer";

    /// <summary>
    /// JWT bearer and API keys for <c>/api/**</c>, with the roles of <see cref="Roles"/>.
    /// Provider webhooks and media streams do not use this: they verify the provider's signature.
    /// </summary>
    public static TBuilder AddVoiceKralikiAuthentication<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration("Auth")
            .Validate(o => o.ApiKeys.All(k => k.Key.Length >= 16),
                "Auth:ApiKeys:N:Key must be at least 16 characters long.")
            .Validate(o => o.ApiKeys.All(k => k.RoleList.Any() && k.RoleList.All(Roles.All.Contains)),
                $"Auth:ApiKeys:N:Roles must list one or more of: {string.Join(", ", Roles.All)}.")
            .Validate(o => o.Jwt.SigningKey is null || IsValidSigningKey(o.Jwt.SigningKey),
                "Auth:Jwt:SigningKey must be base64 of at least 32 bytes.")
            .ValidateOnStart();

        var jwt = builder.Configuration.GetSection("Auth:Jwt").Get<JwtOptions>() ?? new JwtOptions();

        builder.Services.AddAuthentication(SelectorScheme)
            .AddPolicyScheme(SelectorScheme, "API key or bearer token", policy =>
            {
                policy.ForwardDefaultSelector = context =>
                    context.Request.Headers.ContainsKey(ApiKeyAuthenticationHandler.HeaderName)
                        ? ApiKeyAuthenticationHandler.SchemeName
                        : JwtBearerDefaults.AuthenticationScheme;
            })
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddJwtBearer(bearer =>
            {
                bearer.MapInboundClaims = false;
                bearer.RequireHttpsMetadata = jwt.RequireHttpsMetadata;
                if (!string.IsNullOrWhiteSpace(jwt.Authority))
                {
                    bearer.Authority = jwt.Authority;
                }

                bearer.TokenValidationParameters = new TokenValidationParameters
                {
                    NameClaimType = "sub",
                    RoleClaimType = Roles.ClaimType,
                    ValidateIssuer = !string.IsNullOrWhiteSpace(jwt.Issuer),
                    ValidIssuer = jwt.Issuer,
                    ValidateAudience = !string.IsNullOrWhiteSpace(jwt.Audience),
                    ValidAudience = jwt.Audience,
                    ValidateLifetime = true,
                    ClockSkew = TimeSpan.FromSeconds(30),
                    // Without a signing key or an authority no token can be valid.
                    ValidateIssuerSigningKey = true,
                    IssuerSigningKey = IsValidSigningKey(jwt.SigningKey)
                        ? new SymmetricSecurityKey(Convert.FromBase64String(jwt.SigningKey!))
                        : null,
                    ValidAlgorithms = string.IsNullOrWhiteSpace(jwt.Authority) ? [SecurityAlgorithms.HmacSha256] : null,
                };
            });

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(Policies.Authenticated, p => p.RequireAuthenticatedUser())
            .AddPolicy(Policies.Operator, p => p.RequireRole(Roles.Operator, Roles.Admin))
            .AddPolicy(Policies.ComplianceOfficer, p => p.RequireRole(Roles.ComplianceOfficer, Roles.Admin))
            .AddPolicy(Policies.Service, p => p.RequireRole(Roles.Service, Roles.Admin))
            .AddPolicy(Policies.Admin, p => p.RequireRole(Roles.Admin));

        builder.Services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>, JwtBearerRoleClaimPostConfigure>();
        return builder;
    }

    private static bool IsValidSigningKey(string? key)
    {
        if (string.IsNullOrWhiteSpace(key))
        {
            return false;
        }

        var buffer = new byte[Encoding.ASCII.GetMaxByteCount(key.Length)];
        return Convert.TryFromBase64String(key, buffer, out var written) && written >= 32;
    }

    /// <summary>Keeps the role claim type the same when an authority supplies the validation parameters.</summary>
    private sealed class JwtBearerRoleClaimPostConfigure : IPostConfigureOptions<JwtBearerOptions>
    {
        public void PostConfigure(string? name, JwtBearerOptions options)
        {
            options.TokenValidationParameters.RoleClaimType = Roles.ClaimType;
            options.TokenValidationParameters.NameClaimType = "sub";
        }
    }
}
