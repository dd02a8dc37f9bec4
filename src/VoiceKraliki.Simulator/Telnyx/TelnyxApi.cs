using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using VoiceKraliki.Simulator.Calls;

namespace VoiceKraliki.Simulator.Telnyx;

/// <summary>
/// The subset of Telnyx's Call Control v2 API for outbound calls and call commands, with bearer auth and
/// Telnyx's error body (<c>{"errors":[{"code","title","detail","source"}]}</c>).
/// </summary>
internal static class TelnyxApi
{
    /// <summary>Commands accepted on a live call; those not simulated further just answer ok.</summary>
    private static readonly HashSet<string> Actions = new(StringComparer.Ordinal)
    {
        "answer", "hangup", "reject", "transfer", "bridge", "enqueue", "leave_queue", "playback_start", "playback_stop",
        "speak", "gather_using_speak", "gather_stop", "record_start", "record_stop", "record_pause", "record_resume",
        "streaming_start", "streaming_stop", "send_dtmf", "refer",
    };

    public static void MapTelnyxApi(this IEndpointRouteBuilder app, SimulatorContext sim)
    {
        var group = app.MapGroup("/v2/calls").AddEndpointFilter(async (context, next) =>
            Authorized(context.HttpContext, sim.Options.Telnyx.ApiKey)
                ? await next(context)
                : Error(401, "10009", "Authentication failed", "The API key looks malformed. Check that you copied it correctly."));

        group.MapPost("/", (Delegate)((HttpContext http) => DialAsync(http, sim)));
        group.MapPost("/{callControlId}/actions/{action}", (HttpContext http, string callControlId, string action) =>
            ActAsync(http, callControlId, action, sim));
    }

    private static async Task<IResult> DialAsync(HttpContext http, SimulatorContext sim)
    {
        var body = await ReadObjectAsync(http);
        if (body is null)
        {
            return Error(422, "10015", "Invalid request body", "The request body must be a JSON object.");
        }

        var root = body.RootElement;
        string? Text(string name) =>
            root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;

        foreach (var required in (string[])["connection_id", "to", "from"])
        {
            if (Text(required) is null)
            {
                return Error(422, "10015", "Missing required parameter", $"The '{required}' parameter is required.", "/" + required);
            }
        }

        var webhookUrl = Text("webhook_url");
        if (webhookUrl is not null && !Uri.TryCreate(webhookUrl, UriKind.Absolute, out _))
        {
            return Error(422, "10015", "Invalid value", "webhook_url must be an absolute URL.", "/webhook_url");
        }

        var amd = Text("answering_machine_detection");
        if (amd is not (null or "disabled" or "detect" or "detect_beep" or "detect_words" or "greeting_end" or "premium"))
        {
            return Error(422, "10015", "Invalid value", "answering_machine_detection is not a known mode.", "/answering_machine_detection");
        }

        var to = Text("to")!;
        var call = new SimulatedCall(SimulatedProvider.Telnyx, ProviderIds.TelnyxCallControlId(), to, Text("from")!, sim.Scenarios.For(to), sim.Time.GetUtcNow())
        {
            CallLegId = Guid.NewGuid().ToString(),
            CallSessionId = Guid.NewGuid().ToString(),
            ConnectionId = Text("connection_id"),
            ClientState = Text("client_state"),
            WebhookUrl = webhookUrl,
            AnsweringMachineDetection = amd,
        };
        sim.Calls.Add(call);
        var resource = CallResource(call);
        sim.Lifecycle.Start(call);
        return Results.Json(new { data = resource }, SimulatorContext.Json);
    }

    private static async Task<IResult> ActAsync(HttpContext http, string callControlId, string action, SimulatorContext sim)
    {
        if (sim.Calls.Find(callControlId) is not { Provider: SimulatedProvider.Telnyx } call)
        {
            return Error(404, "10005", "Resource not found", "The requested call could not be found.");
        }

        if (!Actions.Contains(action))
        {
            return Error(404, "10005", "Resource not found", $"Unknown call action '{action}'.");
        }

        using var body = http.Request.ContentLength is null or > 0 ? await ReadObjectAsync(http) : JsonDocument.Parse("{}");
        if (body is null)
        {
            return Error(422, "10015", "Invalid request body", "The request body must be a JSON object.");
        }

        var root = body.RootElement;
        var missing = action switch
        {
            "transfer" when !root.TryGetProperty("to", out _) => "to",
            "send_dtmf" when !root.TryGetProperty("digits", out _) => "digits",
            "speak" when !root.TryGetProperty("payload", out _) => "payload",
            _ => null,
        };
        if (missing is not null)
        {
            return Error(422, "10015", "Missing required parameter", $"The '{missing}' parameter is required.", "/" + missing);
        }

        if (!call.IsAlive)
        {
            return Error(422, "90018", "Call has already ended", "This call is no longer active and can't receive commands.");
        }

        if (root.TryGetProperty("client_state", out var state) && state.ValueKind == JsonValueKind.String)
        {
            lock (call.Gate)
            {
                call.ClientState = state.GetString();
            }
        }

        if (action is "hangup" or "reject")
        {
            sim.Lifecycle.HangUp(call);
        }

        return Results.Json(new { data = new { result = "ok" } }, SimulatorContext.Json);
    }

    private static Dictionary<string, object?> CallResource(SimulatedCall call) => new()
    {
        ["call_control_id"] = call.Id,
        ["call_leg_id"] = call.CallLegId,
        ["call_session_id"] = call.CallSessionId,
        ["client_state"] = call.ClientState,
        ["is_alive"] = true,
        ["record_type"] = "call",
        ["call_duration"] = 0,
    };

    private static async Task<JsonDocument?> ReadObjectAsync(HttpContext http)
    {
        try
        {
            var document = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool Authorized(HttpContext http, string apiKey)
    {
        var header = http.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), Encoding.UTF8.GetBytes(apiKey));
    }

    /// <summary>Telnyx's error body.</summary>
    internal static IResult Error(int status, string code, string title, string detail, string? pointer = null)
    {
        var error = new Dictionary<string, object?>
        {
            ["code"] = code,
            ["title"] = title,
            ["detail"] = detail,
            ["meta"] = new Dictionary<string, string> { ["url"] = $"https://developers.telnyx.com/docs/overview/errors/{code}" },
        };
        if (pointer is not null)
        {
            error["source"] = new Dictionary<string, string> { ["pointer"] = pointer };
        }

        return Results.Json(new { errors = new[] { error } }, SimulatorContext.Json, statusCode: status);
    }
}
