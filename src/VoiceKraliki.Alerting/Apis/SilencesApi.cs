using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.Alerting.Apis;

/// <summary><c>/api/alerts/silences</c>: Alertmanager-style silences, with who made them and why.</summary>
public static class SilencesApi
{
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(366);

    public static IEndpointRouteBuilder MapSilencesApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/alerts/silences")
            .RequireAuthorization(Policies.Operator)
            .WithTags("Silences")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("", ListAsync).WithName("ListSilences").WithSummary("Silences not yet ended, and with expired=true those ended in the last day");
        api.MapPost("", CreateAsync).WithName("CreateSilence").ProducesValidationProblem();
        api.MapGet("/{id:guid}", GetAsync).WithName("GetSilence").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{id:guid}", ExpireAsync).WithName("ExpireSilence").WithSummary("Ends the silence now").ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    public sealed record MatcherBody(string? Name, string? Value, bool IsRegex = false, bool IsEqual = true);

    public sealed record SilenceBody(IReadOnlyList<MatcherBody>? Matchers, DateTimeOffset? StartsAt, DateTimeOffset? EndsAt, string? Comment);

    public sealed record SilenceView(
        Guid Id, string Status, IReadOnlyList<string> Matchers, DateTimeOffset StartsAt, DateTimeOffset EndsAt, string CreatedBy, string Comment, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    internal static async Task<Ok<IReadOnlyList<SilenceView>>> ListAsync(bool? expired, SilenceStore silences, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var list = await silences.ListAsync(expired == true ? TimeSpan.FromDays(1) : TimeSpan.Zero, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<SilenceView>>([.. list.Select(s => View(s, now))]);
    }

    internal static async Task<Results<Created<SilenceView>, ValidationProblem>> CreateAsync(
        [FromBody] SilenceBody body, ClaimsPrincipal user, SilenceStore silences, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var matchers = new List<LabelMatcher>();
        if (body.Matchers is not { Count: > 0 })
        {
            errors["matchers"] = ["At least one matcher is required."];
        }
        else if (body.Matchers.Count > 50)
        {
            errors["matchers"] = ["At most 50 matchers."];
        }
        else
        {
            for (var i = 0; i < body.Matchers.Count; i++)
            {
                var m = body.Matchers[i];
                if (LabelMatcher.TryCreate(m?.Name, m?.Value, m?.IsRegex ?? false, m?.IsEqual ?? true, out var matcher, out var error))
                {
                    matchers.Add(matcher!);
                }
                else
                {
                    errors[$"matchers[{i}]"] = [error];
                }
            }

            // As Alertmanager: a silence whose every matcher matches the empty label would silence every alert.
            if (matchers.Count == body.Matchers.Count && matchers.All(m => m.Matches(LabelSet.Empty)))
            {
                errors["matchers"] = ["At least one matcher must not match an empty label value; this silence would mute every alert."];
            }
        }

        var startsAt = body.StartsAt ?? now;
        if (body.EndsAt is not { } endsAt)
        {
            errors["endsAt"] = ["Required."];
        }
        else if (endsAt <= startsAt)
        {
            errors["endsAt"] = ["Must be after startsAt."];
        }
        else if (endsAt <= now)
        {
            errors["endsAt"] = ["Must be in the future."];
        }
        else if (endsAt - startsAt > MaxDuration)
        {
            errors["endsAt"] = ["A silence lasts at most 366 days."];
        }

        if (string.IsNullOrWhiteSpace(body.Comment) || body.Comment.Length > 1000)
        {
            errors["comment"] = ["Say why (1 to 1000 characters)."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var silence = await silences.CreateAsync(matchers, startsAt, body.EndsAt!.Value, user.Identity?.Name ?? "unknown", body.Comment!.Trim(), cancellationToken);
        return TypedResults.Created($"/api/alerts/silences/{silence.Id}", View(silence, now));
    }

    internal static async Task<Results<Ok<SilenceView>, ProblemHttpResult>> GetAsync(Guid id, SilenceStore silences, TimeProvider time, CancellationToken cancellationToken) =>
        await silences.GetAsync(id, cancellationToken) is { } silence ? TypedResults.Ok(View(silence, time.GetUtcNow())) : NotFound(id);

    internal static async Task<Results<Ok<SilenceView>, ProblemHttpResult>> ExpireAsync(Guid id, SilenceStore silences, TimeProvider time, CancellationToken cancellationToken) =>
        await silences.ExpireAsync(id, cancellationToken) is { } silence ? TypedResults.Ok(View(silence, time.GetUtcNow())) : NotFound(id);

    private static SilenceView View(Silence s, DateTimeOffset now) =>
        new(s.Id, s.Status(now), [.. s.Matchers.Select(m => m.ToString())], s.StartsAt, s.EndsAt, s.CreatedBy, s.Comment, s.CreatedAt, s.UpdatedAt);

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such silence.", detail: $"There is no silence {id}.");
}
