using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using VoiceKraliki.Alerting.Lifecycle;
using VoiceKraliki.Alerting.Rules;
using VoiceKraliki.Alerting.Signals;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.Alerting.Apis;

/// <summary>
/// <c>/api/alerts/rules</c>: the rules in force, as data (Prometheus-style snake_case JSON). A bad definition is refused
/// with 400 naming each wrong field by its path (<c>threshold</c>, <c>labels.severity</c>, …).
/// </summary>
public static class RulesApi
{
    private const int MaxBodyBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapRulesApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/alerts/rules")
            .RequireAuthorization(Policies.Operator)
            .WithTags("Rules")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("", ListAsync).WithName("ListRules");
        api.MapGet("/{name}", GetAsync).WithName("GetRule").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("", CreateAsync).WithName("CreateRule").Accepts<AlertRule>("application/json")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapPut("/{name}", PutAsync).WithName("PutRule").Accepts<AlertRule>("application/json")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        api.MapDelete("/{name}", DeleteAsync).WithName("DeleteRule").ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    internal static async Task<Ok<IReadOnlyList<StoredRule>>> ListAsync(RuleStore rules, CancellationToken cancellationToken) =>
        TypedResults.Ok(await rules.CurrentAsync(cancellationToken));

    internal static async Task<Results<Ok<StoredRule>, ProblemHttpResult>> GetAsync(string name, RuleStore rules, CancellationToken cancellationToken) =>
        await rules.GetAsync(name, cancellationToken) is { } rule ? TypedResults.Ok(rule) : NotFound(name);

    internal static async Task<Results<Created<StoredRule>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        HttpRequest request, ClaimsPrincipal user, RuleStore rules, CancellationToken cancellationToken)
    {
        var (rule, errors, tooLarge) = await ReadAsync(request, null, cancellationToken);
        if (tooLarge)
        {
            return TooLarge();
        }

        if (errors is not null)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (await rules.GetAsync(rule!.Name!, cancellationToken) is not null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "A rule with that name exists.",
                detail: $"Replace it with PUT /api/alerts/rules/{rule.Name}.");
        }

        await rules.PutAsync(rule, user.Identity?.Name ?? "unknown", cancellationToken);
        return TypedResults.Created($"/api/alerts/rules/{rule.Name}", (await rules.GetAsync(rule.Name!, cancellationToken))!);
    }

    internal static async Task<Results<Ok<StoredRule>, ValidationProblem, ProblemHttpResult>> PutAsync(
        string name, HttpRequest request, ClaimsPrincipal user, RuleStore rules, CancellationToken cancellationToken)
    {
        var (rule, errors, tooLarge) = await ReadAsync(request, name, cancellationToken);
        if (tooLarge)
        {
            return TooLarge();
        }

        if (errors is not null)
        {
            return TypedResults.ValidationProblem(errors);
        }

        await rules.PutAsync(rule!, user.Identity?.Name ?? "unknown", cancellationToken);
        return TypedResults.Ok((await rules.GetAsync(rule!.Name!, cancellationToken))!);
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, ClaimsPrincipal user, RuleStore rules, CancellationToken cancellationToken) =>
        await rules.DeleteAsync(name, user.Identity?.Name ?? "unknown", cancellationToken) ? TypedResults.NoContent() : NotFound(name);

    /// <summary>Reads and validates a rule from the raw body, so every wrong field is named (binding would stop at the first).</summary>
    private static async Task<(AlertRule? Rule, IDictionary<string, string[]>? Errors, bool TooLarge)> ReadAsync(
        HttpRequest request, string? routeName, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, null, true);
        }

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var buffer = new char[MaxBodyBytes + 1];
        var read = await reader.ReadBlockAsync(buffer.AsMemory(), cancellationToken);
        if (read > MaxBodyBytes)
        {
            return (null, null, true);
        }

        var json = new string(buffer, 0, read);
        if (!RuleValidator.TryParseRule(json, SignalNames.All, out var rule, out var errors))
        {
            return (null, errors.ToDictionary(), false);
        }

        if (routeName is not null && !string.Equals(rule!.Name, routeName, StringComparison.Ordinal))
        {
            return (null, new Dictionary<string, string[]> { ["name"] = [$"Must be the name in the URL ('{routeName}')."] }, false);
        }

        return (rule, null, false);
    }

    private static ProblemHttpResult TooLarge() =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The rule is too large.", detail: $"At most {MaxBodyBytes} bytes.");

    private static ProblemHttpResult NotFound(string name) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such rule.", detail: $"There is no rule '{name}'.");
}
