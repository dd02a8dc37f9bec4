using Microsoft.AspNetCore.Http.HttpResults;
using VoiceKraliki.Compliance.Regions;
using VoiceKraliki.Compliance.Retention;

namespace VoiceKraliki.Compliance.Apis;

/// <summary><c>/api/compliance/policies</c>: the retention policy in force per region (configuration, docs/compliance.md).</summary>
public static class PoliciesApi
{
    public static IEndpointRouteBuilder MapPoliciesApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/compliance/policies")
            .RequireAuthorization(ConsentApi.ReadPolicy)
            .WithTags("Policies")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("", (PolicyRegistry policies) => TypedResults.Ok(policies.Current))
            .WithName("GetRetentionPolicies")
            .WithSummary("Every region's retention policy, and the hash the audit log records it under");

        api.MapGet("/{region}", GetRegion)
            .WithName("GetRetentionPolicy")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return endpoints;
    }

    internal static Results<Ok<RegionPolicy>, ProblemHttpResult> GetRegion(string region, PolicyRegistry policies) =>
        Enum.TryParse<Region>(region, ignoreCase: true, out var known) && Enum.IsDefined(known) && !int.TryParse(region, out _)
            ? TypedResults.Ok(policies.Current.Regions[known.ToString()])
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such region.",
                detail: $"The regions are {string.Join(", ", Enum.GetNames<Region>())}.");
}
