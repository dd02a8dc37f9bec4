using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Numbers;

namespace VoiceKraliki.Telephony.Providers;

/// <summary>
/// Call control over Telnyx's v2 API (<c>{ApiBaseUrl}/v2/…</c>): bearer API key, JSON bodies, answers wrapped in
/// <c>{"data": {…}}</c>. Every call command carries a fresh <c>command_id</c>, which Telnyx uses to drop a duplicate
/// of the same command on the same call.
/// </summary>
public sealed class TelnyxCallControl : ICallControl
{
    private readonly TelnyxOptions _options;
    private readonly ProviderHttp _sender;
    private readonly ILogger<TelnyxCallControl> _logger;

    public TelnyxCallControl(HttpClient http, IOptions<TelephonyOptions> options, TimeProvider time, ILogger<TelnyxCallControl> logger)
    {
        _options = options.Value.Telnyx;
        _logger = logger;
        _sender = new ProviderHttp(http, TelephonyProvider.Telnyx, ReadError, time, logger);
    }

    public TelephonyProvider Provider => TelephonyProvider.Telnyx;

    public async Task<PlacedCall> PlaceCallAsync(PlaceCallRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.To);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.From);
        if (string.IsNullOrEmpty(_options.ConnectionId))
        {
            throw new InvalidOperationException("Telephony:Telnyx:ConnectionId must be set to place Telnyx calls.");
        }

        var body = new JsonObject
        {
            ["connection_id"] = _options.ConnectionId,
            ["to"] = request.To,
            ["from"] = request.From,
        };
        if (request.StatusCallbackUrl is { } webhook)
        {
            body["webhook_url"] = webhook.AbsoluteUri;
        }

        if (request.MachineDetection != MachineDetection.None)
        {
            body["answering_machine_detection"] = request.MachineDetection == MachineDetection.Detect ? "detect" : "greeting_end";
        }

        if (request.StreamUrl is { } stream)
        {
            body["stream_url"] = stream.AbsoluteUri;
            body["stream_track"] = "inbound_track";
        }

        if (request.ClientState is { } state)
        {
            body["client_state"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(state));
        }

        if (request.RingTimeout is { } timeout)
        {
            body["timeout_secs"] = (int)Math.Ceiling(timeout.TotalSeconds);
        }

        body["command_id"] = NewCommandId();

        ProviderLog.Placing(_logger, Provider, PhoneMask.Mask(request.To), PhoneMask.Mask(request.From));
        using var document = await SendAsync(HttpMethod.Post, "calls", body, "PlaceCall", cancellationToken).ConfigureAwait(false);
        var callId = ProviderHttp.Required(Data(document), "call_control_id", Provider, "PlaceCall");
        ProviderLog.Placed(_logger, Provider, callId);
        return new PlacedCall(Provider, callId, null);
    }

    public async Task<CallSnapshot> FetchCallAsync(string callId, CancellationToken cancellationToken)
    {
        using var document = await SendAsync(HttpMethod.Get, $"calls/{Id(callId)}", null, "FetchCall", cancellationToken).ConfigureAwait(false);
        var data = Data(document);
        var alive = ProviderHttp.Required(data, "is_alive", Provider, "FetchCall") == "true";
        TimeSpan? duration = int.TryParse(ProviderHttp.Text(data, "call_duration"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;

        // Telnyx only says whether the call is alive; how it ended comes from the call.hangup webhook.
        return alive
            ? new CallSnapshot(Provider, callId, null, CallEndReason.None, "alive", duration)
            : new CallSnapshot(Provider, callId, CallStatus.Completed, CallEndReason.Unknown, "ended", duration);
    }

    public Task HangUpAsync(string callId, CancellationToken cancellationToken) =>
        CommandAsync(callId, "hangup", [], "HangUp", cancellationToken);

    public Task RedirectAsync(string callId, Uri instructionsUrl, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Telnyx calls are driven by commands and webhooks; there is no instruction document to redirect to.");

    public Task TransferAsync(string callId, string to, string? from, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(to);
        var body = new JsonObject { ["to"] = to };
        if (from is not null)
        {
            body["from"] = from;
        }

        return CommandAsync(callId, "transfer", body, "Transfer", cancellationToken);
    }

    public Task HoldAsync(string conferenceId, string callId, CancellationToken cancellationToken) =>
        ConferenceAsync(conferenceId, "hold", Participants(callId), "Hold", cancellationToken);

    public Task ResumeAsync(string conferenceId, string callId, CancellationToken cancellationToken) =>
        ConferenceAsync(conferenceId, "unhold", Participants(callId), "Resume", cancellationToken);

    public Task JoinConferenceAsync(string conference, string callId, CancellationToken cancellationToken) =>
        ConferenceAsync(conference, "join", Participant(callId), "JoinConference", cancellationToken);

    public Task LeaveConferenceAsync(string conferenceId, string callId, CancellationToken cancellationToken) =>
        ConferenceAsync(conferenceId, "leave", Participant(callId), "LeaveConference", cancellationToken);

    public Task SetMutedAsync(string conferenceId, string callId, bool muted, CancellationToken cancellationToken) =>
        ConferenceAsync(conferenceId, muted ? "mute" : "unmute", Participants(callId), muted ? "Mute" : "Unmute", cancellationToken);

    public async Task<string?> StartRecordingAsync(string callId, RecordingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = new JsonObject { ["format"] = "mp3", ["channels"] = request.DualChannel ? "dual" : "single" };
        await CommandAsync(callId, "record_start", body, "StartRecording", cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <remarks>Telnyx acts on the call's current recording; <paramref name="recordingId"/> is not sent.</remarks>
    public Task StopRecordingAsync(string callId, string? recordingId, CancellationToken cancellationToken) =>
        CommandAsync(callId, "record_stop", [], "StopRecording", cancellationToken);

    /// <inheritdoc cref="StopRecordingAsync"/>
    public Task PauseRecordingAsync(string callId, string? recordingId, CancellationToken cancellationToken) =>
        CommandAsync(callId, "record_pause", [], "PauseRecording", cancellationToken);

    /// <inheritdoc cref="StopRecordingAsync"/>
    public Task ResumeRecordingAsync(string callId, string? recordingId, CancellationToken cancellationToken) =>
        CommandAsync(callId, "record_resume", [], "ResumeRecording", cancellationToken);

    public async Task DeleteRecordingAsync(string recordingId, CancellationToken cancellationToken)
    {
        try
        {
            using var _ = await SendAsync(HttpMethod.Delete, $"recordings/{Id(recordingId)}", null, "DeleteRecording", cancellationToken).ConfigureAwait(false);
        }
        catch (ProviderException ex) when (ProviderHttp.IsNotFound(ex))
        {
            // Deleting is how erasure and retention end; a recording that is already gone is the outcome wanted.
        }
    }

    public Task SendDtmfAsync(string callId, string digits, Uri? continueUrl, CancellationToken cancellationToken)
    {
        DtmfDigits.Validate(digits);
        return CommandAsync(callId, "send_dtmf", new JsonObject { ["digits"] = digits }, "SendDtmf", cancellationToken);
    }

    private async Task CommandAsync(string callId, string action, JsonObject body, string operation, CancellationToken cancellationToken)
    {
        body["command_id"] = NewCommandId();
        using var _ = await SendAsync(HttpMethod.Post, $"calls/{Id(callId)}/actions/{action}", body, operation, cancellationToken).ConfigureAwait(false);
    }

    private async Task ConferenceAsync(string conferenceId, string action, JsonObject body, string operation, CancellationToken cancellationToken)
    {
        using var _ = await SendAsync(HttpMethod.Post, $"conferences/{Id(conferenceId)}/actions/{action}", body, operation, cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task<JsonDocument?> SendAsync(HttpMethod method, string resource, JsonObject? body, string operation, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(_options.ApiKey))
        {
            throw new InvalidOperationException("Telephony:Telnyx:ApiKey must be set to control Telnyx calls.");
        }

        using var request = new HttpRequestMessage(method, new Uri($"{_options.ApiBaseUrl.TrimEnd('/')}/v2/{resource}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.ApiKey);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        return await _sender.SendAsync(request, operation, cancellationToken).ConfigureAwait(false);
    }

    private JsonElement Data(JsonDocument? document) =>
        document is not null && document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("data", out var data)
            ? data
            : throw new ProviderException(Provider, "Read", System.Net.HttpStatusCode.OK, null, "Telnyx answered without 'data'.", isRetryable: false);

    /// <summary>Telnyx errors: <c>{"errors": [{"code": "…", "title": "…", "detail": "…"}]}</c>; the first one names the problem.</summary>
    internal static (string? Code, string? Message) ReadError(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array
                && errors.GetArrayLength() > 0)
            {
                var first = errors[0];
                return (ProviderHttp.Text(first, "code"), ProviderHttp.Text(first, "detail") ?? ProviderHttp.Text(first, "title"));
            }
        }
        catch (JsonException)
        {
        }

        return (null, null);
    }

    private static JsonObject Participant(string callId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(callId);
        return new JsonObject { ["call_control_id"] = callId, ["command_id"] = NewCommandId() };
    }

    private static JsonObject Participants(string callId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(callId);
        return new JsonObject { ["call_control_ids"] = new JsonArray(callId) };
    }

    private static string NewCommandId() => Guid.NewGuid().ToString();

    private static string Id(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return Uri.EscapeDataString(id);
    }
}
