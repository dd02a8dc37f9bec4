using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using VoiceKraliki.Simulator.Faults;
using VoiceKraliki.Simulator.Scenarios;
using VoiceKraliki.Simulator.Webhooks;

namespace VoiceKraliki.Simulator.Admin;

/// <summary>A fault as the admin endpoint takes it: <c>kind</c> is <c>500</c>, <c>429</c> or <c>timeout</c>.</summary>
public sealed record FaultRequest(
    string Kind, string? Provider = null, string? Path = null, string? Method = null, int? Count = null,
    double? DurationSeconds = null, int? RetryAfterSeconds = null);

public sealed record ScenarioRequest(string Scenario);

/// <summary>The simulator's own control surface under <c>/_simulator</c> (no auth: it is a local test tool).</summary>
internal static class AdminApi
{
    public static void MapAdminApi(this IEndpointRouteBuilder app, SimulatorContext sim, WebhookSender sender)
    {
        app.MapGet("/alive", () => Results.Text("alive"));
        var group = app.MapGroup("/_simulator");

        group.MapPost("/faults", Results<Created<FaultCreated>, ValidationProblem> (FaultRequest request) =>
        {
            if (!TryBuild(request, sim.Time, out var rule, out var errors))
            {
                return TypedResults.ValidationProblem(errors);
            }

            var id = sim.Faults.Add(rule);
            return TypedResults.Created($"/_simulator/faults/{id}", new FaultCreated(id));
        });
        group.MapGet("/faults", () => sim.Faults.Active.Select(f => new
        {
            f.Id,
            f.Rule.Provider,
            Path = f.Rule.PathPattern,
            f.Rule.Method,
            Kind = f.Rule.Kind.ToString(),
            f.Remaining,
            f.Rule.Until,
        }));
        group.MapDelete("/faults", () =>
        {
            sim.Faults.Clear();
            return TypedResults.NoContent();
        });
        group.MapDelete("/faults/{id:int}", Results<NoContent, NotFound> (int id) =>
            sim.Faults.Remove(id) ? TypedResults.NoContent() : TypedResults.NotFound());

        group.MapPut("/scenarios/{number}", Results<NoContent, ValidationProblem> (string number, ScenarioRequest request) =>
        {
            if (!CallScenario.TryParse(request.Scenario, out var scenario, out var error))
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["scenario"] = [error] });
            }

            sim.Scenarios.Set(number, scenario);
            return TypedResults.NoContent();
        });
        group.MapDelete("/scenarios/{number}", Results<NoContent, NotFound> (string number) =>
            sim.Scenarios.Remove(number) ? TypedResults.NoContent() : TypedResults.NotFound());

        group.MapGet("/calls", () => sim.Calls.All.Select(c => new
        {
            c.Id,
            Provider = c.Provider.ToString(),
            c.Status,
            c.AnsweredBy,
            c.CreatedAt,
        }));
        group.MapGet("/webhooks", () => sender.Attempts);
    }

    internal static bool TryBuild(FaultRequest request, TimeProvider time, out FaultRule rule, out Dictionary<string, string[]> errors)
    {
        errors = [];
        rule = new FaultRule();
        FaultKind? kind = request.Kind?.ToLowerInvariant() switch
        {
            "500" or "servererror" => FaultKind.ServerError,
            "429" or "toomanyrequests" => FaultKind.TooManyRequests,
            "timeout" => FaultKind.Timeout,
            _ => null,
        };
        if (kind is null)
        {
            errors["kind"] = ["Use 500, 429 or timeout."];
        }

        if (request.Provider is not (null or "twilio" or "telnyx"))
        {
            errors["provider"] = ["Use twilio, telnyx, or leave it out for both."];
        }

        if (request.Count is <= 0)
        {
            errors["count"] = ["Must be at least 1."];
        }

        if (request.DurationSeconds is <= 0)
        {
            errors["durationSeconds"] = ["Must be positive."];
        }

        if (request.RetryAfterSeconds is < 0)
        {
            errors["retryAfterSeconds"] = ["Must not be negative."];
        }

        if (errors.Count > 0)
        {
            return false;
        }

        rule = new FaultRule
        {
            Kind = kind!.Value,
            Provider = request.Provider,
            PathPattern = string.IsNullOrEmpty(request.Path) ? "*" : request.Path,
            Method = request.Method,
            Count = request.Count,
            Until = request.DurationSeconds is { } seconds ? time.GetUtcNow().AddSeconds(seconds) : null,
            RetryAfterSeconds = request.RetryAfterSeconds ?? 1,
        };
        return true;
    }
}

public sealed record FaultCreated(int Id);
