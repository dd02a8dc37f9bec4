using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceKraliki.Alerting.Lifecycle;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Rules;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.Alerting.Apis;

/// <summary><c>/api/alerts</c>: what fired, who acknowledged it, when it resolved.</summary>
public static class AlertsApi
{
    public static IEndpointRouteBuilder MapAlertsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/alerts")
            .RequireAuthorization(Policies.Operator)
            .WithTags("Alerts")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("", ListAsync).WithName("ListAlerts")
            .WithSummary("Alerts newest first; filter by state, severity, acknowledged and labels (label=name=value, repeatable)")
            .ProducesValidationProblem();
        api.MapGet("/{id:guid}", GetAsync).WithName("GetAlert").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id:guid}/acknowledge", AcknowledgeAsync).WithName("AcknowledgeAlert")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapPost("/{id:guid}/resolve", ResolveAsync).WithName("ResolveAlert")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return endpoints;
    }

    public sealed record NoteBody(string? Note);

    internal static async Task<Results<Ok<IReadOnlyList<AlertSnapshot>>, ValidationProblem>> ListAsync(
        string? state, string? severity, bool? acknowledged, [FromQuery(Name = "label")] string[]? label, int? limit, Guid? before,
        AlertStore alerts, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        AlertState? parsedState = state switch
        {
            null => null,
            "pending" => AlertState.Pending,
            "firing" => AlertState.Firing,
            "resolved" => AlertState.Resolved,
            _ => null,
        };
        if (state is not null && parsedState is null)
        {
            errors["state"] = ["One of pending, firing, resolved."];
        }

        if (severity is not null && !AlertRule.Severities.Contains(severity))
        {
            errors["severity"] = [$"One of {string.Join(", ", AlertRule.Severities)}."];
        }

        if (!LabelFilter.TryParse(label, out var labels))
        {
            errors["label"] = [LabelFilter.Error];
        }

        if (limit is < 1 or > 500)
        {
            errors["limit"] = ["Between 1 and 500."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        return TypedResults.Ok(await alerts.ListAsync(new AlertFilter(parsedState, severity, labels, acknowledged, limit ?? 100, before), cancellationToken));
    }

    internal static async Task<Results<Ok<AlertDetail>, ProblemHttpResult>> GetAsync(Guid id, AlertStore alerts, CancellationToken cancellationToken) =>
        await alerts.GetAsync(id, cancellationToken) is { } detail ? TypedResults.Ok(detail) : NotFound(id);

    internal static Task<Results<Ok<AlertSnapshot>, ValidationProblem, ProblemHttpResult>> AcknowledgeAsync(
        Guid id, [FromBody] NoteBody? body, ClaimsPrincipal user, AlertStore alerts, CancellationToken cancellationToken) =>
        ChangeAsync(id, body, alerts, (note, ct) => alerts.AcknowledgeAsync(id, Who(user), note, ct), "acknowledged", cancellationToken);

    internal static Task<Results<Ok<AlertSnapshot>, ValidationProblem, ProblemHttpResult>> ResolveAsync(
        Guid id, [FromBody] NoteBody? body, ClaimsPrincipal user, AlertStore alerts, CancellationToken cancellationToken) =>
        ChangeAsync(id, body, alerts, (note, ct) => alerts.ResolveAsync(id, Who(user), note, ct), "resolved", cancellationToken);

    private static async Task<Results<Ok<AlertSnapshot>, ValidationProblem, ProblemHttpResult>> ChangeAsync(
        Guid id, NoteBody? body, AlertStore alerts, Func<string?, CancellationToken, Task<AlertSnapshot?>> change, string what, CancellationToken cancellationToken)
    {
        if (body?.Note is { Length: > 2000 })
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["note"] = ["At most 2000 characters."] });
        }

        if (await change(string.IsNullOrWhiteSpace(body?.Note) ? null : body.Note.Trim(), cancellationToken) is { } alert)
        {
            return TypedResults.Ok(alert);
        }

        return await alerts.GetAsync(id, cancellationToken) is { } existing
            ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"The alert cannot be {what}.",
                detail: $"Alert {id} is {AlertStore.StateText(existing.Alert.State)}; only pending and firing alerts can be {what}.")
            : NotFound(id);
    }

    private static string Who(ClaimsPrincipal user) => user.Identity?.Name ?? "unknown";

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such alert.", detail: $"There is no alert {id}.");
}
