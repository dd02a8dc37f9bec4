using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using VoiceKraliki.Compliance.Decisions;
using VoiceKraliki.Compliance.Regions;

namespace VoiceKraliki.Compliance.Apis;

/// <summary>
/// <c>GET /api/compliance/decisions/{recording|transcription|ai-processing}?from=&amp;to=</c>: whether a call between
/// two numbers may be recorded, transcribed or processed by AI, with the basis. For services (call-state and
/// media-bridge ask before recording), compliance officers and admins.
/// </summary>
public static class DecisionsApi
{
    public static IEndpointRouteBuilder MapDecisionsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/compliance/decisions")
            .RequireAuthorization(ConsentApi.ReadPolicy)
            .WithTags("Decisions")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        foreach (var purpose in DecisionRules.Purposes.Keys)
        {
            api.MapGet("/" + purpose, (string? from, string? to, ClaimsPrincipal user, DecisionService decisions, CancellationToken cancellationToken) =>
                    DecideAsync(purpose, from, to, user, decisions, cancellationToken))
                .WithName("Decide-" + purpose)
                .WithSummary($"May a call between ?from= and ?to= be used for {purpose}, and why");
        }

        return endpoints;
    }

    internal static async Task<Results<Ok<Decision>, ValidationProblem>> DecideAsync(
        string purpose, string? from, string? to, ClaimsPrincipal user, DecisionService decisions, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!PhoneNumber.TryParse(from, out var fromNumber, out var fromError))
        {
            errors["from"] = [fromError ?? "Must be an E.164 number."];
        }

        if (!PhoneNumber.TryParse(to, out var toNumber, out var toError))
        {
            errors["to"] = [toError ?? "Must be an E.164 number."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        return TypedResults.Ok(await decisions.DecideAsync(purpose, fromNumber!, toNumber!, user.Identity?.Name ?? "unknown", cancellationToken));
    }
}
