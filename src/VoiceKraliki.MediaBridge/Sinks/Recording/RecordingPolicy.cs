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
/// an explicit yes; a policy that fails counts as a no. The compliance-backed policy (consent and all-party rules)
/// replaces <see cref="ConfiguredRecordingPolicy"/> by registering itself as this interface.
/// </summary>
public interface IRecordingPolicy
{
    ValueTask<RecordingDecision> DecideAsync(MediaStreamInfo stream, CancellationToken cancellationToken);
}

/// <summary>
/// The operator's standing decision from <c>Recording:Policy</c>, until compliance can decide per call:
/// <c>Deny</c> (default) records nothing; <c>Allow</c> records everything; <c>AllowWhenRequested</c> records a
/// stream whose parameters say <c>record=true</c> (parameters come from our own TwiML or Call Control command, never
/// from the caller) or whose call id starts with one of <c>Recording:AllowedCallIdPrefixes</c>.
/// </summary>
public sealed class ConfiguredRecordingPolicy(IOptionsMonitor<RecordingOptions> options) : IRecordingPolicy
{
    public const string RecordParameter = "record";

    public ValueTask<RecordingDecision> DecideAsync(MediaStreamInfo stream, CancellationToken cancellationToken)
    {
        var current = options.CurrentValue;
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
