using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceKraliki.Compliance.Regions;
using VoiceKraliki.Compliance.Requests;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.Compliance.Apis;

/// <summary>
/// <c>/api/compliance/requests</c>: data-subject requests — export (GDPR Art. 15/20) and erasure (Art. 17) — across
/// every service that holds the subject's data, each tracked per service against its one-month deadline.
/// </summary>
public static class RequestsApi
{
    public static IEndpointRouteBuilder MapRequestsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/compliance/requests")
            .RequireAuthorization(Policies.ComplianceOfficer)
            .WithTags("Data-subject requests")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapPost("", CreateAsync).WithName("CreateSubjectRequest").WithSummary("Starts an export or an erasure for a number");
        api.MapGet("/{id:guid}", GetAsync).WithName("GetSubjectRequest").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id:guid}/bundle", GetBundleAsync)
            .WithName("GetExportBundle")
            .WithSummary("A completed export's data from every service, as one JSON document")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return endpoints;
    }

    public sealed record SubjectRequestBody(string? Kind, string? PhoneNumber);

    internal static async Task<Results<Accepted<SubjectRequestView>, ValidationProblem>> CreateAsync(
        [FromBody] SubjectRequestBody body, ClaimsPrincipal user, RequestStore requests, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (body.Kind is not (RequestStore.Export or RequestStore.Erasure))
        {
            errors["kind"] = ["Must be 'export' or 'erasure'."];
        }

        if (!PhoneNumber.TryParse(body.PhoneNumber, out var number, out var error))
        {
            errors["phoneNumber"] = [error];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var request = await requests.CreateAsync(body.Kind!, number!, user.Identity?.Name ?? "unknown", cancellationToken);
        return TypedResults.Accepted($"/api/compliance/requests/{request.Id}", request);
    }

    internal static async Task<Results<Ok<SubjectRequestView>, ProblemHttpResult>> GetAsync(Guid id, RequestStore requests, CancellationToken cancellationToken) =>
        await requests.GetAsync(id, cancellationToken) is { } request ? TypedResults.Ok(request) : NotFound(id);

    internal static async Task<Results<Ok<JsonElement>, ProblemHttpResult>> GetBundleAsync(Guid id, RequestStore requests, CancellationToken cancellationToken)
    {
        if (await requests.GetAsync(id, cancellationToken) is not { } request)
        {
            return NotFound(id);
        }

        if (request.Kind != RequestStore.Export)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "An erasure has no bundle.", detail: $"Request {id} is an erasure.");
        }

        return await requests.BundleAsync(id, cancellationToken) is { } bundle
            ? TypedResults.Ok(bundle)
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The export is not complete yet.",
                detail: $"Waiting for {string.Join(", ", request.Parts.Where(p => p.CompletedAt is null).Select(p => p.Service))}.");
    }

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such request.", detail: $"No data-subject request {id}.");
}
