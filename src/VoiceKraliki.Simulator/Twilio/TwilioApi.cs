using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using VoiceKraliki.Simulator.Calls;

namespace VoiceKraliki.Simulator.Twilio;

/// <summary>
/// The subset of Twilio's REST API (2010-04-01) for outbound calls and call recordings, with Twilio's
/// basic auth and error bodies (<c>{"code","message","more_info","status"}</c>).
/// </summary>
internal static class TwilioApi
{
    public const string ApiVersion = "2010-04-01";
    private const string Prefix = "/2010-04-01/Accounts/{accountSid}";

    public static void MapTwilioApi(this IEndpointRouteBuilder app, SimulatorContext sim)
    {
        var group = app.MapGroup(Prefix).AddEndpointFilter(async (context, next) =>
            Authorized(context.HttpContext, sim.Options.Twilio) ? await next(context) : Error(401, 20003, "Authenticate"));

        group.MapPost("/Calls.json", (HttpContext http, string accountSid) => CreateCallAsync(http, accountSid, sim));
        group.MapGet("/Calls/{callSid}.json", (HttpContext http, string callSid) =>
            sim.Calls.Find(callSid) is { Provider: SimulatedProvider.Twilio } call ? Results.Json(CallResource(call), SimulatorContext.Json) : NotFound(http));
        group.MapPost("/Calls/{callSid}.json", (HttpContext http, string callSid) => UpdateCallAsync(http, callSid, sim));
        group.MapPost("/Calls/{callSid}/Recordings.json", (HttpContext http, string callSid) => StartRecording(http, callSid, sim));
        group.MapPost("/Calls/{callSid}/Recordings/{recordingSid}.json", (HttpContext http, string callSid, string recordingSid) =>
            UpdateRecordingAsync(http, callSid, recordingSid, sim));
        group.MapDelete("/Calls/{callSid}/Recordings/{recordingSid}.json", (HttpContext http, string callSid, string recordingSid) =>
            sim.Calls.Find(callSid)?.Recordings.TryRemove(recordingSid, out _) == true ? Results.NoContent() : NotFound(http));
    }

    /// <summary>Twilio's date format (RFC 2822, always +0000).</summary>
    public static string FormatDate(DateTimeOffset at) =>
        at.UtcDateTime.ToString("ddd, dd MMM yyyy HH:mm:ss '+0000'", CultureInfo.InvariantCulture);

    private static async Task<IResult> CreateCallAsync(HttpContext http, string accountSid, SimulatorContext sim)
    {
        var form = await ReadFormAsync(http);
        string? Field(string name) => form.TryGetValue(name, out var v) && !StringValues.IsNullOrEmpty(v) ? v.ToString() : null;

        var to = Field("To");
        var from = Field("From");
        var url = Field("Url");
        var twiml = Field("Twiml");
        var statusCallback = Field("StatusCallback");
        if (to is null)
        {
            return Error(400, 21201, "No 'To' number is specified");
        }

        if (from is null)
        {
            return Error(400, 21213, "No 'From' number is specified");
        }

        if (url is null && twiml is null && Field("ApplicationSid") is null)
        {
            return Error(400, 21205, "Either Url, Twiml or ApplicationSid must be specified");
        }

        if ((url is not null && !IsHttpUrl(url)) || (statusCallback is not null && !IsHttpUrl(statusCallback)))
        {
            return Error(400, 21205, "Url is not a valid URL");
        }

        var machineDetection = Field("MachineDetection");
        if (machineDetection is not (null or "Enable" or "DetectMessageEnd"))
        {
            return Error(400, 21218, "MachineDetection must be Enable or DetectMessageEnd");
        }

        // Twilio accepts the events repeated or space-separated in one value; with none it sends only completed.
        var events = form.TryGetValue("StatusCallbackEvent", out var requested)
            ? requested.SelectMany(v => (v ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet(StringComparer.Ordinal)
            : [];
        if (events.Count == 0)
        {
            events.Add("completed");
        }

        var call = new SimulatedCall(SimulatedProvider.Twilio, ProviderIds.TwilioSid("CA"), to, from, sim.Scenarios.For(to), sim.Time.GetUtcNow())
        {
            AccountSid = accountSid,
            Url = url,
            Twiml = twiml,
            StatusCallback = statusCallback,
            StatusCallbackEvents = events,
            MachineDetection = machineDetection,
        };
        sim.Calls.Add(call);
        var resource = CallResource(call);
        sim.Lifecycle.Start(call);
        return Results.Json(resource, SimulatorContext.Json, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> UpdateCallAsync(HttpContext http, string callSid, SimulatorContext sim)
    {
        if (sim.Calls.Find(callSid) is not { Provider: SimulatedProvider.Twilio } call)
        {
            return NotFound(http);
        }

        var form = await ReadFormAsync(http);
        var status = form["Status"].ToString();
        var url = form["Url"].ToString();
        var twiml = form["Twiml"].ToString();
        if (status.Length > 0 && status is not (CallStatuses.Completed or CallStatuses.Canceled))
        {
            return Error(400, 21218, $"Invalid Status '{status}': use completed or canceled");
        }

        if (url.Length > 0 && !IsHttpUrl(url))
        {
            return Error(400, 21205, "Url is not a valid URL");
        }

        if ((url.Length > 0 || twiml.Length > 0) && !call.IsAlive)
        {
            return Error(400, 21220, "Call is not in-progress. Cannot redirect.");
        }

        lock (call.Gate)
        {
            call.Url = url.Length > 0 ? url : call.Url;
            call.Twiml = twiml.Length > 0 ? twiml : call.Twiml;
        }

        // Twilio: canceled ends only a call that is still queued or ringing; completed ends it in any state.
        var answered = call.Status == CallStatuses.InProgress;
        if (status == CallStatuses.Completed || (status == CallStatuses.Canceled && !answered))
        {
            sim.Lifecycle.HangUp(call);
        }

        return Results.Json(CallResource(call), SimulatorContext.Json);
    }

    private static IResult StartRecording(HttpContext http, string callSid, SimulatorContext sim)
    {
        if (sim.Calls.Find(callSid) is not { Provider: SimulatedProvider.Twilio } call)
        {
            return NotFound(http);
        }

        lock (call.Gate)
        {
            if (call.Status != CallStatuses.InProgress)
            {
                return Error(400, 21220, "Requested resource is not eligible for recording");
            }
        }

        var recording = new SimulatedRecording(ProviderIds.TwilioSid("RE"), call.Id, sim.Time.GetUtcNow());
        call.Recordings[recording.Sid] = recording;
        return Results.Json(RecordingResource(call, recording), SimulatorContext.Json, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> UpdateRecordingAsync(HttpContext http, string callSid, string recordingSid, SimulatorContext sim)
    {
        if (sim.Calls.Find(callSid) is not { } call || !call.Recordings.TryGetValue(recordingSid, out var recording))
        {
            return NotFound(http);
        }

        var status = (await ReadFormAsync(http))["Status"].ToString();
        if (status is not ("stopped" or "paused" or "in-progress"))
        {
            return Error(400, 21218, $"Invalid Status '{status}': use stopped, paused or in-progress");
        }

        lock (call.Gate)
        {
            if (recording.Status == "stopped")
            {
                return Error(400, 21220, "Recording is already stopped");
            }

            recording.Status = status;
        }

        return Results.Json(RecordingResource(call, recording), SimulatorContext.Json);
    }

    private static Dictionary<string, object?> CallResource(SimulatedCall call)
    {
        lock (call.Gate)
        {
            var uri = $"/{ApiVersion}/Accounts/{call.AccountSid}/Calls/{call.Id}";
            return new Dictionary<string, object?>
            {
                ["sid"] = call.Id,
                ["date_created"] = FormatDate(call.CreatedAt),
                ["date_updated"] = FormatDate(call.UpdatedAt),
                ["parent_call_sid"] = null,
                ["account_sid"] = call.AccountSid,
                ["to"] = call.To,
                ["to_formatted"] = call.To,
                ["from"] = call.From,
                ["from_formatted"] = call.From,
                ["phone_number_sid"] = null,
                ["status"] = call.Status,
                ["start_time"] = call.StartedAt is { } start ? FormatDate(start) : null,
                ["end_time"] = call.EndedAt is { } end ? FormatDate(end) : null,
                ["duration"] = call.EndedAt is null ? null : (call.StartedAt is { } s && call.EndedAt is { } e ? (int)Math.Round((e - s).TotalSeconds) : 0).ToString(CultureInfo.InvariantCulture),
                ["price"] = null,
                ["price_unit"] = "USD",
                ["direction"] = "outbound-api",
                ["answered_by"] = call.AnsweredBy,
                ["api_version"] = ApiVersion,
                ["forwarded_from"] = null,
                ["group_sid"] = null,
                ["caller_name"] = null,
                ["queue_time"] = "0",
                ["trunk_sid"] = null,
                ["uri"] = uri + ".json",
                ["subresource_uris"] = new Dictionary<string, string>
                {
                    ["notifications"] = uri + "/Notifications.json",
                    ["recordings"] = uri + "/Recordings.json",
                    ["payments"] = uri + "/Payments.json",
                    ["events"] = uri + "/Events.json",
                    ["siprec"] = uri + "/Siprec.json",
                    ["streams"] = uri + "/Streams.json",
                },
            };
        }
    }

    private static Dictionary<string, object?> RecordingResource(SimulatedCall call, SimulatedRecording recording) => new()
    {
        ["sid"] = recording.Sid,
        ["account_sid"] = call.AccountSid,
        ["call_sid"] = call.Id,
        ["conference_sid"] = null,
        ["api_version"] = ApiVersion,
        ["date_created"] = FormatDate(recording.CreatedAt),
        ["date_updated"] = FormatDate(recording.CreatedAt),
        ["start_time"] = FormatDate(recording.CreatedAt),
        ["duration"] = "-1",
        ["price"] = null,
        ["price_unit"] = "USD",
        ["status"] = recording.Status,
        ["channels"] = 1,
        ["source"] = "StartCallRecordingAPI",
        ["error_code"] = null,
        ["track"] = "both",
        ["uri"] = $"/{ApiVersion}/Accounts/{call.AccountSid}/Calls/{call.Id}/Recordings/{recording.Sid}.json",
    };

    private static async Task<IFormCollection> ReadFormAsync(HttpContext http) =>
        http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : FormCollection.Empty;

    private static bool Authorized(HttpContext http, TwilioSimulatorOptions options)
    {
        if (!AuthenticationHeaderValue.TryParse(http.Request.Headers.Authorization, out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
        {
            return false;
        }

        string credentials;
        try
        {
            credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = options.AccountSid + ":" + options.AuthToken;
        var accountInPath = http.Request.RouteValues["accountSid"] as string;
        return accountInPath == options.AccountSid
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(credentials), Encoding.UTF8.GetBytes(expected));
    }

    private static bool IsHttpUrl(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static IResult NotFound(HttpContext http) =>
        Error(404, 20404, $"The requested resource {http.Request.Path} was not found");

    /// <summary>Twilio's error body.</summary>
    internal static IResult Error(int status, int code, string message, int? retryAfterSeconds = null) =>
        new TwilioErrorResult(status, new Dictionary<string, object?>
        {
            ["code"] = code,
            ["message"] = message,
            ["more_info"] = $"https://www.twilio.com/docs/errors/{code}",
            ["status"] = status,
        }, retryAfterSeconds);

    private sealed class TwilioErrorResult(int status, Dictionary<string, object?> body, int? retryAfterSeconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            if (retryAfterSeconds is { } seconds)
            {
                httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            }

            return Results.Json(body, SimulatorContext.Json, statusCode: status).ExecuteAsync(httpContext);
        }
    }
}
