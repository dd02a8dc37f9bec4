using VoiceKraliki.Contracts;

namespace VoiceKraliki.CallState.Reconciliation;

/// <summary>A live call that has had no update for longer than its state's timeout.</summary>
/// <param name="Status">The state it is stuck in.</param>
/// <param name="UpdatedAt">Its last update (the receive time of its last applied event).</param>
/// <param name="StuckSince">When it was flagged.</param>
public sealed record StuckCall(
    string ProviderCallId,
    string? SessionId,
    TelephonyProvider Provider,
    CallStatus Status,
    DateTimeOffset UpdatedAt,
    DateTimeOffset StuckSince);

/// <summary>
/// Asks a provider for the real state of a stuck call (Twilio <c>GET /Calls/{sid}</c>, Telnyx
/// <c>GET /calls/{call_control_id}</c>) and publishes what it learns as a <see cref="CallEventReceived"/>, so the
/// answer goes through the state machine like any webhook. None is registered yet: the adapters come with outbound
/// calls; until then a flagged call is logged and counted and waits for one.
/// </summary>
public interface IProviderCallReconciler
{
    TelephonyProvider Provider { get; }

    /// <summary>Called once per flagging, with a timeout (<c>Reconciliation:ProviderTimeout</c>); may throw.</summary>
    Task ReconcileAsync(StuckCall call, CancellationToken cancellationToken);
}
