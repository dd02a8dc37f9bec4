namespace VoiceKraliki.ServiceDefaults.Auth;

/// <summary>The roles of <c>/api/**</c>. <see cref="Admin"/> may do everything the others may.</summary>
public static class Roles
{
    public const string Operator = "operator";
    public const string ComplianceOfficer = "compliance-officer";
    public const string Admin = "admin";
    public const string Service = "service";

    public static readonly IReadOnlySet<string> All = new HashSet<string>(StringComparer.Ordinal)
    {
        Operator, ComplianceOfficer, Admin, Service,
    };

    /// <summary>The claim type our identities carry roles in, for API keys and JWTs alike.</summary>
    public const string ClaimType = "role";
}

/// <summary>Authorization policies by role; each also admits <see cref="Roles.Admin"/>.</summary>
public static class Policies
{
    public const string Authenticated = "authenticated";
    public const string Operator = "role:operator";
    public const string ComplianceOfficer = "role:compliance-officer";
    public const string Service = "role:service";
    public const string Admin = "role:admin";
}
