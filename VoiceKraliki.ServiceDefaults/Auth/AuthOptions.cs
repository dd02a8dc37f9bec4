using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.ServiceDefaults.Auth;

/// <summary>Bound from the <c>Auth</c> section (<c>Auth__ApiKeys__0__Key</c>, <c>Auth__Jwt__SigningKey</c>, …).</summary>
public sealed class AuthOptions
{
    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    public JwtOptions Jwt { get; set; } = new();
}

public sealed class ApiKeyOptions
{
    /// <summary>Optional display name of the key's holder (shown instead of the key).</summary>
    public string? Name { get; set; }

    [Required]
    [MinLength(16)]
    public string Key { get; set; } = string.Empty;

    /// <summary>Comma-separated roles.</summary>
    [Required]
    public string Roles { get; set; } = string.Empty;

    public IEnumerable<string> RoleList =>
        Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

public sealed class JwtOptions
{
    /// <summary>Base64 HMAC key for locally issued tokens (HS256). Either this or <see cref="Authority"/>.</summary>
    public string? SigningKey { get; set; }

    /// <summary>OpenID Connect authority whose published keys sign the tokens.</summary>
    public string? Authority { get; set; }

    public string? Issuer { get; set; }

    public string? Audience { get; set; }

    public bool RequireHttpsMetadata { get; set; } = true;
}
