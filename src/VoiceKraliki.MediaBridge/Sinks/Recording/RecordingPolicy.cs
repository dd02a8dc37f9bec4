using Microsoft.Extensions.Options;

namespace VoiceKraliki.MediaBridge.Sinks.Recording;

/// <summary>Whether a stream may be recorded, and why: <paramref name="Basis"/> is a stable code for logs and the sidecar.</summary>
public sealed record RecordingDecision(bool Allowed, string Basis, string Reason)
{
    public static RecordingDecision Allow(string basis, string reason) => new(true, basis, reason);

    public static RecordingDecision Deny(string basis, string reason) => new(false, basis, reason);
}

/// <summary>
/// Decides, when a stream starts, whether it may be recorded. The recorder asks once per stream and records only on
/// an explicit yes; a policy that fails counts as a no. A policy registered as this interface before
/// <c>AddMediaSinks()</c> replaces <see cref="ConfiguredRecordingPolicy"/>.
/// </summary>
public interface IRecordingPolicy
{
    ValueTask<RecordingDecision> DecideAsync(MediaStreamInfo stream, CancellationToken cancellationToken);
}

/// <summary>
/// The policy <c>Recording:Policy</c> chooses: <c>Deny</c> (default) records nothing; <c>Allow</c> records everything;
/// <c>AllowWhenRequested</c> records a stream whose parameters say <c>record=true</c> (parameters come from our own
/// TwiML or Call Control command, never from the caller) or whose call id starts with one of
/// <c>Recording:AllowedCallIdPrefixes</c>; <c>Compliance</c> asks the compliance service per stream
/// (<see cref="ComplianceRecordingPolicy"/>).
/// </summary>
/// <param name="compliance">Only used in <c>Compliance</c> mode; without it that mode records nothing.</param>
public sealed class ConfiguredRecordingPolicy(
    IOptionsMonitor<RecordingOptions> options, ComplianceRecordingPolicy? compliance = null) : IRecordingPolicy
{
    public const string RecordParameter = "record";

    public ValueTask<RecordingDecision> DecideAsync(MediaStreamInfo stream, CancellationToken cancellationToken)
    {
        var current = options.CurrentValue;
        if (current.Policy == RecordingPolicyMode.Compliance)
        {
            return compliance is null
                ? ValueTask.FromResult(RecordingDecision.Deny(ComplianceRecordingPolicy.UnavailableBasis, "no compliance client is registered"))
                : compliance.DecideAsync(stream, cancellationToken);
        }

        var decision = current.Policy switch
        {
            RecordingPolicyMode.Allow =>
                RecordingDecision.Allow("configured-allow", "Recording:Policy is Allow"),
            RecordingPolicyMode.AllowWhenRequested when IsRequested(stream) =>
                RecordingDecision.Allow("stream-requested", "the stream's record parameter is true and Recording:Policy is AllowWhenRequested"),
            RecordingPolicyMode.AllowWhenRequested when IsAllowListed(stream.CallId, current.AllowedCallIdPrefixes) =>
                RecordingDecision.Allow("call-id-allow-list", "the call id matches Recording:AllowedCallIdPrefixes"),
            RecordingPolicyMode.AllowWhenRequested =>
                RecordingDecision.Deny("not-requested", "Recording:Policy is AllowWhenRequested and the stream did not ask"),
            _ =>
                RecordingDecision.Deny("configured-deny", "Recording:Policy is Deny (the default)"),
        };
        return ValueTask.FromResult(decision);
    }

    private static bool IsRequested(MediaStreamInfo stream) =>
        stream.Parameters.TryGetValue(RecordParameter, out var value)
        && string.Equals(value.Trim(), "true", StringComparison.OrdinalIgnoreCase);

    private static bool IsAllowListed(string callId, string[] prefixes) =>
        prefixes.Any(prefix => prefix.Length > 0 && callId.StartsWith(prefix, StringComparison.Ordinal));
}
