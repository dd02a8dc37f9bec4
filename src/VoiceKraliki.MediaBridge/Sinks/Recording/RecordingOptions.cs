using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.MediaBridge.Sinks.Recording;

/// <summary>Whether media-bridge may record a stream on its own authority (see <see cref="ConfiguredRecordingPolicy"/>).</summary>
public enum RecordingPolicyMode
{
    /// <summary>Never record. The default: consent is the operator's to establish, not ours to assume.</summary>
    Deny,

    /// <summary>Record every stream (the operator has consent for all calls through this deployment).</summary>
    Allow,

    /// <summary>Record a stream only when it asks (<c>record=true</c>) or its call id is on the allow-list.</summary>
    AllowWhenRequested,

    /// <summary>Ask the compliance service about each stream's parties; no answer means no recording (<see cref="ComplianceRecordingPolicy"/>).</summary>
    Compliance,
}

/// <summary>Bound from <c>Recording</c>. See docs/media-recording.md.</summary>
public sealed class RecordingOptions : IValidatableObject
{
    public const string SectionName = "Recording";

    /// <summary>The stream pipeline gives a sink 5 s to start; the decision must leave the recorder time to open its file.</summary>
    public static readonly TimeSpan MaxComplianceTimeout = TimeSpan.FromSeconds(4);

    /// <summary>
    /// Where the WAV files and their sidecars go (an absolute path). The AppHost sets <c>&lt;state folder&gt;/recordings</c>;
    /// without it (a service started on its own), <c>voicekraliki/media-bridge/recordings</c> in the OS temp folder.
    /// </summary>
    public string? Directory { get; set; }

    public RecordingPolicyMode Policy { get; set; } = RecordingPolicyMode.Deny;

    /// <summary>With <see cref="RecordingPolicyMode.AllowWhenRequested"/>: call ids starting with one of these are recorded.</summary>
    public string[] AllowedCallIdPrefixes { get; set; } = [];

    /// <summary>With <see cref="RecordingPolicyMode.Compliance"/>: media-bridge's API key for compliance (role <c>service</c>).</summary>
    public string? ComplianceApiKey { get; set; }

    /// <summary>
    /// With <see cref="RecordingPolicyMode.Compliance"/>: how long the decision may take, retries included, before the
    /// stream goes unrecorded. Kept under the 5 s a stream gives its sinks to start.
    /// </summary>
    public TimeSpan ComplianceTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the WAV header and buffered audio are written out, so a crash leaves a readable file.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The folder in use: <see cref="Directory"/>, else the default.</summary>
    public string EffectiveDirectory => string.IsNullOrWhiteSpace(Directory)
        ? Path.Combine(Path.GetTempPath(), "voicekraliki", "media-bridge", "recordings")
        : Directory;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Directory) && !Path.IsPathFullyQualified(Directory))
        {
            yield return new ValidationResult(
                $"Recording:Directory must be an absolute path; '{Directory}' is relative.", [nameof(Directory)]);
        }

        if (!Enum.IsDefined(Policy))
        {
            yield return new ValidationResult("Recording:Policy must be Deny, Allow, AllowWhenRequested or Compliance.", [nameof(Policy)]);
        }

        if (Policy == RecordingPolicyMode.Compliance && string.IsNullOrWhiteSpace(ComplianceApiKey))
        {
            yield return new ValidationResult(
                "Recording:ComplianceApiKey is required when Recording:Policy is Compliance (an API key with the service role).",
                [nameof(ComplianceApiKey)]);
        }

        if (ComplianceTimeout < TimeSpan.FromMilliseconds(100) || ComplianceTimeout > MaxComplianceTimeout)
        {
            yield return new ValidationResult("Recording:ComplianceTimeout must be between 00:00:00.1 and 00:00:04.", [nameof(ComplianceTimeout)]);
        }

        if (AllowedCallIdPrefixes.Any(string.IsNullOrWhiteSpace))
        {
            // An empty prefix would match every call and silently turn the allow-list into Allow.
            yield return new ValidationResult("Recording:AllowedCallIdPrefixes must not contain an empty prefix.", [nameof(AllowedCallIdPrefixes)]);
        }

        if (FlushInterval < TimeSpan.FromMilliseconds(100) || FlushInterval > TimeSpan.FromMinutes(1))
        {
            yield return new ValidationResult("Recording:FlushInterval must be between 00:00:00.1 and 00:01:00.", [nameof(FlushInterval)]);
        }
    }
}
