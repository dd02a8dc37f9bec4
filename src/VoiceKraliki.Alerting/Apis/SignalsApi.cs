using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Signals;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.Alerting.Apis;

/// <summary>
/// <c>/api/alerts/signals</c>: the live telephony signals rules are evaluated over — each series' current value, its
/// recent samples (in memory, the last 10,000), and its per-minute history (Postgres).
/// </summary>
public static class SignalsApi
{
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(31);

    public static IEndpointRouteBuilder MapSignalsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/alerts/signals")
            .RequireAuthorization(Policies.Operator)
            .WithTags("Signals")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("", List).WithName("ListSignals").WithSummary("Every signal and the current value of each of its series");
        api.MapGet("/{name}", GetAsync).WithName("GetSignal")
            .WithSummary("A signal's series now, their recent samples, and per-minute history between from and to (default: the last hour)")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    public sealed record SignalView(string Name, IReadOnlyList<SignalSample> Current);

    public sealed record SignalDetail(
        string Name, IReadOnlyList<SignalSample> Current, IReadOnlyList<SignalSample> Recent, IReadOnlyList<SignalHistoryPoint> History, DateTimeOffset From, DateTimeOffset To);

    internal static Ok<IReadOnlyList<SignalView>> List(SignalStore signals, TimeProvider time)
    {
        var now = time.GetUtcNow();
        return TypedResults.Ok<IReadOnlyList<SignalView>>([.. SignalNames.All.Select(name => new SignalView(name, signals.Current(name, now)))]);
    }

    internal static async Task<Results<Ok<SignalDetail>, ValidationProblem, ProblemHttpResult>> GetAsync(
        string name, DateTimeOffset? from, DateTimeOffset? to, [FromQuery(Name = "label")] string[]? label, int? recent,
        SignalStore signals, SignalHistory history, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!SignalNames.IsKnown(name))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such signal.", detail: $"The signals are {string.Join(", ", SignalNames.All)}.");
        }

        var now = time.GetUtcNow();
        var end = to ?? now;
        var start = from ?? end - TimeSpan.FromHours(1);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (start >= end)
        {
            errors["from"] = ["Must be before to."];
        }
        else if (end - start > MaxRange)
        {
            errors["from"] = ["The range is at most 31 days."];
        }

        if (recent is < 0 or > 10_000)
        {
            errors["recent"] = ["Between 0 and 10000."];
        }

        if (!LabelFilter.TryParse(label, out var labels))
        {
            errors["label"] = [LabelFilter.Error];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var current = signals.Current(name, now).Where(s => labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).ToList();
        return TypedResults.Ok(new SignalDetail(
            name,
            current,
            signals.Recent(name, labels.Count == 0 ? null : labels, recent ?? 100),
            await history.HistoryAsync(name, start, end, labels.Count == 0 ? null : labels, cancellationToken),
            start,
            end));
    }
}
