using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Notifications;
using VoiceKraliki.Alerting.Notifications.Channels;
using VoiceKraliki.ServiceDefaults.Auth;

namespace VoiceKraliki.Alerting.Apis;

/// <summary>
/// <c>/api/alerts/channels</c>: where notifications go. Secrets (webhook URLs, routing keys, passwords) are write-only:
/// the API takes them and never returns them, only their names.
/// </summary>
public static partial class ChannelsApi
{
    public static IEndpointRouteBuilder MapChannelsApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/alerts/channels")
            .RequireAuthorization(Policies.Operator)
            .WithTags("Channels")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        api.MapGet("", ListAsync).WithName("ListChannels");
        api.MapPost("", CreateAsync).WithName("CreateChannel").ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/{id:guid}", GetAsync).WithName("GetChannel").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/{id:guid}", UpdateAsync).WithName("UpdateChannel").ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteChannel").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{id:guid}/test", TestAsync).WithName("TestChannel").WithSummary("Sends a test notification now and says what the receiver answered")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{id:guid}/deliveries", DeliveriesAsync).WithName("ListChannelDeliveries").ProducesProblem(StatusCodes.Status404NotFound);
        return endpoints;
    }

    /// <param name="Secrets">On update, a secret left out keeps its current value.</param>
    public sealed record ChannelBody(
        string? Name, string? Type, Dictionary<string, string>? Settings, Dictionary<string, string>? Secrets, int? RatePerMinute, bool? SendResolved);

    public sealed record TestResult(string Outcome, int Attempts, int? StatusCode, string? Error);

    internal static async Task<Ok<IReadOnlyList<ChannelView>>> ListAsync(ChannelStore channels, CancellationToken cancellationToken) =>
        TypedResults.Ok(await channels.ListAsync(cancellationToken));

    internal static async Task<Results<Ok<ChannelView>, ProblemHttpResult>> GetAsync(Guid id, ChannelStore channels, CancellationToken cancellationToken) =>
        await channels.GetAsync(id, cancellationToken) is { } view ? TypedResults.Ok(view) : NotFound(id);

    internal static async Task<Results<Created<ChannelView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        [FromBody] ChannelBody body, ClaimsPrincipal user, ChannelStore channels, IEnumerable<INotificationChannel> types, CancellationToken cancellationToken)
    {
        var config = new ChannelConfig(
            Guid.CreateVersion7(), body.Name?.Trim() ?? "", body.Type ?? "", body.Settings ?? [], body.Secrets ?? [], body.RatePerMinute ?? 60, body.SendResolved ?? true);
        if (Validate(config, types) is { Count: > 0 } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        return await channels.CreateAsync(config, user.Identity?.Name ?? "unknown", cancellationToken) is { } view
            ? TypedResults.Created($"/api/alerts/channels/{view.Id}", view)
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "A channel with that name exists.", detail: $"Channel names are unique; '{config.Name}' is taken.");
    }

    internal static async Task<Results<Ok<ChannelView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, [FromBody] ChannelBody body, ChannelStore channels, IEnumerable<INotificationChannel> types, CancellationToken cancellationToken)
    {
        if (await channels.ConfigAsync(id, cancellationToken) is not { } current)
        {
            return NotFound(id);
        }

        if (body.Type is { } type && type != current.Type)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["type"] = [$"A channel's type cannot change (it is {current.Type}); create another channel."] });
        }

        var secrets = new Dictionary<string, string>(current.Secrets, StringComparer.Ordinal);
        foreach (var (name, value) in body.Secrets ?? [])
        {
            secrets[name] = value;
        }

        var config = current with
        {
            Name = body.Name?.Trim() ?? current.Name,
            Settings = body.Settings ?? current.Settings.ToDictionary(StringComparer.Ordinal),
            Secrets = secrets,
            RatePerMinute = body.RatePerMinute ?? current.RatePerMinute,
            SendResolved = body.SendResolved ?? current.SendResolved,
        };
        if (Validate(config, types) is { Count: > 0 } errors)
        {
            return TypedResults.ValidationProblem(errors);
        }

        try
        {
            return await channels.UpdateAsync(config, cancellationToken) is { } view ? TypedResults.Ok(view) : NotFound(id);
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "A channel with that name exists.", detail: $"'{config.Name}' is taken.");
        }
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, ChannelStore channels, CancellationToken cancellationToken) =>
        await channels.DeleteAsync(id, cancellationToken) ? TypedResults.NoContent() : NotFound(id);

    internal static async Task<Results<Ok<TestResult>, ProblemHttpResult>> TestAsync(
        Guid id, ClaimsPrincipal user, ChannelStore channels, INotificationDelivery delivery, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await channels.ConfigAsync(id, cancellationToken) is not { } channel)
        {
            return NotFound(id);
        }

        var now = time.GetUtcNow();
        var labels = LabelSet.Of(("alertname", "channel_test"), ("severity", "low"), ("channel", channel.Name));
        var notification = new Notification("test", $"test:{channel.Id}:{now.ToUnixTimeMilliseconds()}", labels, Notification.Firing,
        [
            new NotifiedAlert(labels.Fingerprint, Notification.Firing, "channel_test", labels,
                new Dictionary<string, string>
                {
                    ["summary"] = $"Test notification for channel {channel.Name}",
                    ["description"] = $"Sent by {user.Identity?.Name ?? "unknown"} through the alerting API to check that this channel works.",
                },
                now, null, 0, null),
        ], null);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var (result, attempts) = await delivery.DeliverAsync(channel with { RatePerMinute = int.MaxValue }, notification, timeout.Token);
        return TypedResults.Ok(new TestResult(result.Outcome.ToString().ToLowerInvariant(), attempts, result.StatusCode, result.Error));
    }

    internal static async Task<Results<Ok<IReadOnlyList<DeliveryRecord>>, ProblemHttpResult>> DeliveriesAsync(
        Guid id, int? limit, ChannelStore channels, NotificationLog log, CancellationToken cancellationToken)
    {
        if (await channels.GetAsync(id, cancellationToken) is null)
        {
            return NotFound(id);
        }

        return TypedResults.Ok(await log.DeliveriesAsync(id, Math.Clamp(limit ?? 50, 1, 500), cancellationToken));
    }

    private static Dictionary<string, string[]> Validate(ChannelConfig config, IEnumerable<INotificationChannel> types)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!Name().IsMatch(config.Name))
        {
            errors["name"] = ["1 to 100 letters, digits, '-', '_' or '.'."];
        }

        if (config.RatePerMinute is < 1 or > 6000)
        {
            errors["ratePerMinute"] = ["Between 1 and 6000."];
        }

        var channel = types.FirstOrDefault(t => t.Type == config.Type);
        if (channel is null)
        {
            errors["type"] = [$"One of {string.Join(", ", ChannelTypes.All)}."];
            return errors;
        }

        foreach (var (field, message) in channel.Validate(config))
        {
            errors[field] = [message];
        }

        return errors;
    }

    private static ProblemHttpResult NotFound(Guid id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such channel.", detail: $"There is no channel {id}.");

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,100}$")]
    private static partial Regex Name();
}
