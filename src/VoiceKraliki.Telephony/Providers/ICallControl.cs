using VoiceKraliki.Contracts;

namespace VoiceKraliki.Telephony.Providers;

/// <summary>
/// Call control over a provider's REST API, the same verbs for Twilio and Telnyx. Ids are the provider's own:
/// a Twilio <c>CallSid</c> (<c>CA…</c>) or a Telnyx <c>call_control_id</c>.
/// </summary>
/// <remarks>
/// Every method throws <see cref="ProviderException"/> when the provider refuses the request or cannot be reached;
/// <see cref="ProviderException.IsRetryable"/> tells the caller whether trying again later may succeed. The
/// adapters never retry a command themselves: a repeated POST could place a second call.
/// </remarks>
public interface ICallControl
{
    TelephonyProvider Provider { get; }

    /// <summary>Starts an outbound call and returns the provider's id for it.</summary>
    Task<PlacedCall> PlaceCallAsync(PlaceCallRequest request, CancellationToken cancellationToken);

    /// <summary>The call as the provider sees it now.</summary>
    Task<CallSnapshot> FetchCallAsync(string callId, CancellationToken cancellationToken);

    Task HangUpAsync(string callId, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the call continue with the instructions at <paramref name="instructionsUrl"/> (Twilio: TwiML fetched
    /// with POST). Telnyx has no instruction documents and throws <see cref="NotSupportedException"/>.
    /// </summary>
    Task RedirectAsync(string callId, Uri instructionsUrl, CancellationToken cancellationToken);

    /// <summary>Transfers the call to <paramref name="to"/> (E.164 or a SIP URI), shown as <paramref name="from"/> when given.</summary>
    Task TransferAsync(string callId, string to, string? from, CancellationToken cancellationToken);

    /// <summary>Puts a conference participant on hold (Twilio: the conference SID <c>CF…</c>; Telnyx: the conference id).</summary>
    Task HoldAsync(string conferenceId, string callId, CancellationToken cancellationToken);

    Task ResumeAsync(string conferenceId, string callId, CancellationToken cancellationToken);

    /// <summary>
    /// Moves the call into a conference. Twilio: <paramref name="conference"/> is the conference's friendly name
    /// (a conference has a SID only once it exists); Telnyx: the conference id.
    /// </summary>
    Task JoinConferenceAsync(string conference, string callId, CancellationToken cancellationToken);

    /// <summary>Removes the call from a conference (Twilio: the conference SID).</summary>
    Task LeaveConferenceAsync(string conferenceId, string callId, CancellationToken cancellationToken);

    Task SetMutedAsync(string conferenceId, string callId, bool muted, CancellationToken cancellationToken);

    /// <summary>
    /// Starts recording the call. Returns the recording id when the provider names it at once (Twilio <c>RE…</c>);
    /// Telnyx names it only in the later <c>call.recording.saved</c> event, so there it is <see langword="null"/>.
    /// </summary>
    Task<string?> StartRecordingAsync(string callId, RecordingRequest request, CancellationToken cancellationToken);

    /// <param name="recordingId">The recording to act on; <see langword="null"/> means the call's current one.</param>
    Task StopRecordingAsync(string callId, string? recordingId, CancellationToken cancellationToken);

    /// <inheritdoc cref="StopRecordingAsync"/>
    Task PauseRecordingAsync(string callId, string? recordingId, CancellationToken cancellationToken);

    /// <inheritdoc cref="StopRecordingAsync"/>
    Task ResumeRecordingAsync(string callId, string? recordingId, CancellationToken cancellationToken);

    /// <summary>Deletes a stored recording (erasure requests, retention). A recording already gone is not an error.</summary>
    Task DeleteRecordingAsync(string recordingId, CancellationToken cancellationToken);

    /// <summary>
    /// Plays DTMF <paramref name="digits"/> (<c>0-9 * #</c>; <c>w</c> pauses half a second, <c>W</c> one second) to the far end.
    /// </summary>
    /// <param name="continueUrl">
    /// Twilio only: Twilio has no "send digits" command, so the call's TwiML is replaced by
    /// <c>&lt;Play digits/&gt;</c>, which ends whatever the call was doing (a <c>&lt;Connect&gt;&lt;Stream&gt;</c>
    /// closes); the call then fetches new TwiML from this URL, or hangs up when it is <see langword="null"/>.
    /// Telnyx sends the digits alongside the running call and ignores it.
    /// </param>
    Task SendDtmfAsync(string callId, string digits, Uri? continueUrl, CancellationToken cancellationToken);
}

/// <summary>What to dial and where the provider reports back.</summary>
/// <param name="To">E.164 number or SIP URI to call.</param>
/// <param name="From">One of our numbers, E.164.</param>
public sealed record PlaceCallRequest(string To, string From)
{
    /// <summary>Twilio: where the answered call fetches its TwiML (POST). Required unless <see cref="StreamUrl"/> is set.</summary>
    public Uri? InstructionsUrl { get; init; }

    /// <summary>
    /// Twilio: the <c>StatusCallback</c>, told about initiated, ringing, answered and completed. Telnyx: a
    /// <c>webhook_url</c> overriding the connection's webhook for this call; null keeps the connection's.
    /// </summary>
    public Uri? StatusCallbackUrl { get; init; }

    public MachineDetection MachineDetection { get; init; }

    /// <summary>
    /// A WebSocket (<c>wss://</c>) the call's audio streams to. Telnyx: <c>stream_url</c>; Twilio: the call runs
    /// <c>&lt;Connect&gt;&lt;Stream&gt;</c> to it (then leave <see cref="InstructionsUrl"/> unset).
    /// </summary>
    public Uri? StreamUrl { get; init; }

    /// <summary>
    /// Telnyx: echoed back in every webhook of the call (sent base64). Twilio has no such field; put what you need
    /// into the callback URLs.
    /// </summary>
    public string? ClientState { get; init; }

    /// <summary>How long to let it ring before giving up; the provider's default when null.</summary>
    public TimeSpan? RingTimeout { get; init; }
}

/// <summary>Answering-machine detection on an outbound call.</summary>
public enum MachineDetection
{
    None,

    /// <summary>Decide human or machine as soon as possible (Twilio <c>Enable</c>, Telnyx <c>detect</c>).</summary>
    Detect,

    /// <summary>On a machine, also wait for the greeting to end (Twilio <c>DetectMessageEnd</c>, Telnyx <c>greeting_end</c>).</summary>
    DetectMessageEnd,
}

/// <param name="CallId">Twilio <c>CallSid</c> or Telnyx <c>call_control_id</c>.</param>
/// <param name="ProviderStatus">The provider's own word for the state (Twilio <c>status</c>; Telnyx has none at dial time).</param>
public sealed record PlacedCall(TelephonyProvider Provider, string CallId, string? ProviderStatus);

/// <summary>A call's state as the provider reports it.</summary>
/// <param name="Status">
/// Our status; <see langword="null"/> when the provider does not say enough (Telnyx only says whether the call is
/// alive, so a live Telnyx call is <see langword="null"/> and an ended one <see cref="CallStatus.Completed"/>).
/// </param>
/// <param name="ProviderStatus">Twilio's <c>status</c>; for Telnyx <c>alive</c> or <c>ended</c>.</param>
public sealed record CallSnapshot(
    TelephonyProvider Provider,
    string CallId,
    CallStatus? Status,
    CallEndReason EndReason,
    string ProviderStatus,
    TimeSpan? Duration);

/// <summary>How to record a call.</summary>
public sealed record RecordingRequest
{
    /// <summary>Each party on its own channel (Twilio <c>dual</c>, Telnyx <c>dual</c>); otherwise mixed into one.</summary>
    public bool DualChannel { get; init; }

    /// <summary>Twilio: where to report the recording's progress (<c>RecordingStatusCallback</c>). Telnyx reports through the call's webhooks.</summary>
    public Uri? StatusCallbackUrl { get; init; }
}
