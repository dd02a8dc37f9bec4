using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceKraliki.Compliance.Retention;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.Compliance.Apis;

/// <summary>
/// <c>/api/compliance/retention</c>: what is past its retention policy (a dry run that changes nothing), and the
/// sweeps that hand it to the services holding it, with their progress.
/// </summary>
public static class RetentionApi
{
    public const int MaxReportItems = 1000;

    public static IEndpointRouteBuilder MapRetentionApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/compliance/retention")
            .RequireAuthorization(Policies.ComplianceOfficer)
            .WithTags("Retention")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("/report", ReportAsync)
            .WithName("GetRetentionReport")
            .WithSummary("Dry run: what a sweep would find as of a time (now by default), changing nothing")
            .ProducesValidationProblem();
        api.MapPost("/sweeps", SweepAsync)
            .WithName("StartRetentionSweep")
            .WithSummary("Requests a sweep now (the elected instance runs it), or with dryRun only reports")
            .ProducesValidationProblem();
        api.MapGet("/sweeps", ListAsync).WithName("ListRetentionSweeps").ProducesValidationProblem();
        api.MapGet("/sweeps/{id:guid}", GetAsync).WithName("GetRetentionSweep").ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    public sealed record SweepBody(bool DryRun = false);

    internal static async Task<Results<Ok<RetentionReport>, ValidationProblem>> ReportAsync(
        string? asOf, int? limit, RetentionSweeps sweeps, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var when = time.GetUtcNow();
        if (asOf is not null && !DateTimeOffset.TryParse(asOf, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out when))
        {
            errors["asOf"] = ["Must be an ISO 8601 date and time, e.g. 2026-12-31T00:00:00Z."];
        }
        else if (when.Year is < 2000 or > 2200)
        {
            errors["asOf"] = ["Must be between the years 2000 and 2200."];
        }

        if (limit is < 0 or > MaxReportItems)
        {
            errors["limit"] = [$"Must be between 0 and {MaxReportItems}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        return TypedResults.Ok(await sweeps.ReportAsync(when.ToUniversalTime(), limit ?? 100, cancellationToken));
    }

    internal static async Task<Results<Accepted<SweepView>, Ok<RetentionReport>>> SweepAsync(
        [FromBody] SweepBody? body, ClaimsPrincipal user, RetentionSweeps sweeps, RetentionSweeper sweeper, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (body?.DryRun == true)
        {
            return TypedResults.Ok(await sweeps.ReportAsync(time.GetUtcNow(), 100, cancellationToken));
        }

        var sweep = await sweeps.RequestAsync(user.Identity?.Name ?? "unknown", cancellationToken);
        sweeper.Wake();
        return TypedResults.Accepted($"/api/compliance/retention/sweeps/{sweep.Id}", sweep);
    }

    internal static async Task<Results<Ok<IReadOnlyList<SweepView>>, ValidationProblem>> ListAsync(int? limit, RetentionSweeps sweeps, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 200)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["Must be between 1 and 200."] });
        }

        return TypedResults.Ok(await sweeps.RecentAsync(limit ?? 20, cancellationToken));
    }

    internal static async Task<Results<Ok<SweepView>, ProblemHttpResult>> GetAsync(Guid id, RetentionSweeps sweeps, CancellationToken cancellationToken) =>
        await sweeps.GetAsync(id, cancellationToken) is { } sweep
            ? TypedResults.Ok(sweep)
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such sweep.", detail: $"There is no retention sweep {id}.");
}
