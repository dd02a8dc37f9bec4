using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using VoiceKraliki.Telephony.Events;
using VoiceKraliki.Telephony.Numbers;
using VoiceKraliki.Telephony.Twiml;

namespace VoiceKraliki.Telephony.Providers;

/// <summary>
/// Call control over Twilio's REST API (<c>{ApiBaseUrl}/2010-04-01/Accounts/{AccountSid}/…json</c>): HTTP basic auth
/// with the account SID and auth token, form-encoded bodies with Twilio's parameter names, JSON answers.
/// </summary>
public sealed class TwilioCallControl : ICallControl
{
    /// <summary>The status callback events we ask for on every call we place.</summary>
    public static IReadOnlyList<string> StatusCallbackEvents { get; } = ["initiated", "ringing", "answered", "completed"];

    /// <summary>Twilio's placeholder for "the call's recording in progress" in a recording URL.</summary>
    public const string CurrentRecording = "Twilio.CURRENT";

    private readonly TwilioOptions _options;
    private readonly ProviderHttp _sender;
    private readonly ILogger<TwilioCallControl> _logger;

    public TwilioCallControl(HttpClient http, IOptions<TelephonyOptions> options, TimeProvider time, ILogger<TwilioCallControl> logger)
    {
        _options = options.Value.Twilio;
        _logger = logger;
        _sender = new ProviderHttp(http, TelephonyProvider.Twilio, ReadError, time, logger);
    }

    public TelephonyProvider Provider => TelephonyProvider.Twilio;

    public async Task<PlacedCall> PlaceCallAsync(PlaceCallRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.To);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.From);
        if ((request.InstructionsUrl is null) == (request.StreamUrl is null))
        {
            throw new ArgumentException(
                "Twilio needs exactly one of InstructionsUrl (TwiML to run) or StreamUrl (connect the call's audio to it).", nameof(request));
        }

        var form = new List<KeyValuePair<string, string>> { new("To", request.To), new("From", request.From) };
        if (request.InstructionsUrl is { } url)
        {
            form.Add(new("Url", url.AbsoluteUri));
            form.Add(new("Method", "POST"));
        }
        else
        {
            form.Add(new("Twiml", new TwimlResponse().Connect(new TwimlStream(request.StreamUrl!.AbsoluteUri)).ToXml()));
        }

        if (request.StatusCallbackUrl is { } callback)
        {
            form.Add(new("StatusCallback", callback.AbsoluteUri));
            form.Add(new("StatusCallbackMethod", "POST"));
            foreach (var e in StatusCallbackEvents)
            {
                form.Add(new("StatusCallbackEvent", e));
            }
        }

        if (request.MachineDetection != MachineDetection.None)
        {
            form.Add(new("MachineDetection", request.MachineDetection == MachineDetection.Detect ? "Enable" : "DetectMessageEnd"));
            // Asynchronous AMD lets the call start at once; the verdict arrives later on the status callback.
            form.Add(new("AsyncAmd", "true"));
        }

        if (request.RingTimeout is { } timeout)
        {
            form.Add(new("Timeout", Seconds(timeout)));
        }

        ProviderLog.Placing(_logger, Provider, PhoneMask.Mask(request.To), PhoneMask.Mask(request.From));
        using var document = await SendAsync(HttpMethod.Post, "Calls.json", form, "PlaceCall", cancellationToken).ConfigureAwait(false);
        var root = document!.RootElement;
        var sid = ProviderHttp.Required(root, "sid", Provider, "PlaceCall");
        ProviderLog.Placed(_logger, Provider, sid);
        return new PlacedCall(Provider, sid, ProviderHttp.Text(root, "status"));
    }

    public async Task<CallSnapshot> FetchCallAsync(string callId, CancellationToken cancellationToken)
    {
        using var document = await SendAsync(HttpMethod.Get, $"Calls/{Id(callId)}.json", null, "FetchCall", cancellationToken).ConfigureAwait(false);
        var root = document!.RootElement;
        var status = ProviderHttp.Required(root, "status", Provider, "FetchCall");
        var (mapped, reason) = CallStatusMapping.FromTwilio(status, ProviderHttp.Text(root, "answered_by"));
        TimeSpan? duration = int.TryParse(ProviderHttp.Text(root, "duration"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;
        return new CallSnapshot(Provider, ProviderHttp.Text(root, "sid") ?? callId, mapped, reason, status, duration);
    }

    public Task HangUpAsync(string callId, CancellationToken cancellationToken) =>
        UpdateCallAsync(callId, [new("Status", "completed")], "HangUp", cancellationToken);

    public Task RedirectAsync(string callId, Uri instructionsUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instructionsUrl);
        return UpdateCallAsync(callId, [new("Url", instructionsUrl.AbsoluteUri), new("Method", "POST")], "Redirect", cancellationToken);
    }

    /// <summary>Replaces what the call is doing with an inline TwiML document (at most 4000 characters at Twilio).</summary>
    public Task UpdateTwimlAsync(string callId, TwimlResponse twiml, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(twiml);
        return UpdateCallAsync(callId, [new("Twiml", twiml.ToXml())], "UpdateTwiml", cancellationToken);
    }

    public Task TransferAsync(string callId, string to, string? from, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(to);
        return UpdateCallAsync(callId, [new("Twiml", new TwimlResponse().DialNumber(to, callerId: from).ToXml())], "Transfer", cancellationToken);
    }

    public Task HoldAsync(string conferenceId, string callId, CancellationToken cancellationToken) =>
        UpdateParticipantAsync(conferenceId, callId, new("Hold", "true"), "Hold", cancellationToken);

    public Task ResumeAsync(string conferenceId, string callId, CancellationToken cancellationToken) =>
        UpdateParticipantAsync(conferenceId, callId, new("Hold", "false"), "Resume", cancellationToken);

    public Task JoinConferenceAsync(string conference, string callId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(conference);
        var twiml = new TwimlResponse().Dial(d => d.Conference(conference)).ToXml();
        return UpdateCallAsync(callId, [new("Twiml", twiml)], "JoinConference", cancellationToken);
    }

    /// <remarks>Twilio removes the participant; the call goes on with the TwiML after its <c>&lt;Dial&gt;</c>, if any.</remarks>
    public async Task LeaveConferenceAsync(string conferenceId, string callId, CancellationToken cancellationToken)
    {
        using var _ = await SendAsync(HttpMethod.Delete, $"Conferences/{Id(conferenceId)}/Participants/{Id(callId)}.json", null, "LeaveConference", cancellationToken)
            .ConfigureAwait(false);
    }

    public Task SetMutedAsync(string conferenceId, string callId, bool muted, CancellationToken cancellationToken) =>
        UpdateParticipantAsync(conferenceId, callId, new("Muted", muted ? "true" : "false"), muted ? "Mute" : "Unmute", cancellationToken);

    public async Task<string?> StartRecordingAsync(string callId, RecordingRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var form = new List<KeyValuePair<string, string>> { new("RecordingChannels", request.DualChannel ? "dual" : "mono") };
        if (request.StatusCallbackUrl is { } callback)
        {
            form.Add(new("RecordingStatusCallback", callback.AbsoluteUri));
            form.Add(new("RecordingStatusCallbackMethod", "POST"));
        }

        using var document = await SendAsync(HttpMethod.Post, $"Calls/{Id(callId)}/Recordings.json", form, "StartRecording", cancellationToken)
            .ConfigureAwait(false);
        return ProviderHttp.Required(document!.RootElement, "sid", Provider, "StartRecording");
    }

    public Task StopRecordingAsync(string callId, string? recordingId, CancellationToken cancellationToken) =>
        UpdateRecordingAsync(callId, recordingId, "stopped", "StopRecording", cancellationToken);

    public Task PauseRecordingAsync(string callId, string? recordingId, CancellationToken cancellationToken) =>
        UpdateRecordingAsync(callId, recordingId, "paused", "PauseRecording", cancellationToken);

    public Task ResumeRecordingAsync(string callId, string? recordingId, CancellationToken cancellationToken) =>
        UpdateRecordingAsync(callId, recordingId, "in-progress", "ResumeRecording", cancellationToken);

    public async Task DeleteRecordingAsync(string recordingId, CancellationToken cancellationToken)
    {
        try
        {
            using var _ = await SendAsync(HttpMethod.Delete, $"Recordings/{Id(recordingId)}.json", null, "DeleteRecording", cancellationToken)
                .ConfigureAwait(false);
        }
        catch (ProviderException ex) when (ProviderHttp.IsNotFound(ex))
        {
            // Deleting is how erasure and retention end; a recording that is already gone is the outcome wanted.
        }
    }

    public Task SendDtmfAsync(string callId, string digits, Uri? continueUrl, CancellationToken cancellationToken)
    {
        DtmfDigits.Validate(digits);
        // TwimlResponse has no <Play digits>; the digits are checked above, so they need no escaping.
        var twiml = new StringBuilder("""<?xml version="1.0" encoding="UTF-8"?><Response><Play digits=""")
            .Append('"').Append(digits).Append("\"/>");
        if (continueUrl is not null)
        {
            twiml.Append("<Redirect method=\"POST\">").Append(System.Security.SecurityElement.Escape(continueUrl.AbsoluteUri)).Append("</Redirect>");
        }

        twiml.Append("</Response>");
        return UpdateCallAsync(callId, [new("Twiml", twiml.ToString())], "SendDtmf", cancellationToken);
    }

    private async Task UpdateCallAsync(string callId, List<KeyValuePair<string, string>> form, string operation, CancellationToken cancellationToken)
    {
        using var _ = await SendAsync(HttpMethod.Post, $"Calls/{Id(callId)}.json", form, operation, cancellationToken).ConfigureAwait(false);
    }

    private async Task UpdateParticipantAsync(
        string conferenceId, string callId, KeyValuePair<string, string> change, string operation, CancellationToken cancellationToken)
    {
        using var _ = await SendAsync(HttpMethod.Post, $"Conferences/{Id(conferenceId)}/Participants/{Id(callId)}.json", [change], operation, cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task UpdateRecordingAsync(string callId, string? recordingId, string status, string operation, CancellationToken cancellationToken)
    {
        var recording = recordingId is null ? CurrentRecording : Id(recordingId);
        using var _ = await SendAsync(HttpMethod.Post, $"Calls/{Id(callId)}/Recordings/{recording}.json", [new("Status", status)], operation, cancellationToken)
            .ConfigureAwait(false);
    }

    private async Task<JsonDocument?> SendAsync(
        HttpMethod method, string resource, List<KeyValuePair<string, string>>? form, string operation, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(_options.AccountSid) || string.IsNullOrEmpty(_options.AuthToken))
        {
            throw new InvalidOperationException("Telephony:Twilio:AccountSid and Telephony:Twilio:AuthToken must be set to control Twilio calls.");
        }

        var uri = new Uri($"{_options.ApiBaseUrl.TrimEnd('/')}/2010-04-01/Accounts/{Uri.EscapeDataString(_options.AccountSid)}/{resource}");
        using var request = new HttpRequestMessage(method, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{_options.AccountSid}:{_options.AuthToken}")));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (form is not null)
        {
            request.Content = new FormUrlEncodedContent(form);
        }

        return await _sender.SendAsync(request, operation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Twilio errors: <c>{"code": 20404, "message": "…", "more_info": "…", "status": 404}</c>.</summary>
    internal static (string? Code, string? Message) ReadError(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            return (ProviderHttp.Text(root, "code"), ProviderHttp.Text(root, "message"));
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    private static string Id(string id)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        return Uri.EscapeDataString(id);
    }

    private static string Seconds(TimeSpan value) =>
        ((int)Math.Ceiling(value.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
}
