using System.ComponentModel.DataAnnotations;
using VoiceKraliki.Telephony.Media;

namespace VoiceKraliki.MediaBridge.Streams;

/// <summary>Bound from <c>MediaStreams</c> (<c>MediaStreams__TokenSigningKey</c>, …). See docs/media-bridge.md.</summary>
public sealed class MediaStreamOptions : IValidatableObject
{
    public const string SectionName = "MediaStreams";

    /// <summary>
    /// Base64 of the key (at least 32 bytes) that webhook-ingress signs stream tokens with
    /// (its <c>Webhooks:Voice:StreamTokenSigningKey</c>); the AppHost generates one for local use and gives it to both.
    /// </summary>
    public string? TokenSigningKey { get; set; }

    /// <summary>The largest single WebSocket message accepted; a 20 ms frame is well under 1 KiB.</summary>
    [Range(1024, 1024 * 1024, ErrorMessage = "MediaStreams:MaxMessageBytes must be between 1024 and 1048576.")]
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// How many frames the reorder buffer holds while it waits for a missing one (per track); also, times 20 ms, how long
    /// it waits at most. 0 plays every frame as it comes and counts any frame that overtook another as late.
    /// </summary>
    [Range(0, 50, ErrorMessage = "MediaStreams:JitterBufferFrames must be between 0 and 50.")]
    public int JitterBufferFrames { get; set; } = 3;

    /// <summary>How often a <c>MediaQualityReported</c> is published for each stream (and once more at its end).</summary>
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Frames each sink's queue holds (50 = 1 s of 20 ms frames); when full, the oldest frame is dropped.</summary>
    [Range(2, 3000, ErrorMessage = "MediaStreams:SinkQueueFrames must be between 2 and 3000.")]
    public int SinkQueueFrames { get; set; } = 50;

    /// <summary>How long a stream's end waits for its sinks to take what is queued before they are cancelled.</summary>
    public TimeSpan SinkStopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>WebSocket ping interval, so that no proxy on the way idles a quiet stream out. Zero turns pings off.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a ping may go unanswered before the stream is aborted. Zero: pings are never checked.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>A stream that has not sent <c>start</c> this long after the upgrade is closed (1008).</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A frame whose RMS level is below this (dBFS) counts as silence in the reports.</summary>
    public double SilenceThresholdDbfs { get; set; } = -50;

    /// <summary>How much audio a sink may queue towards the provider before <c>SendAudioAsync</c> waits for room.</summary>
    public TimeSpan MaxQueuedOutput { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The head start a run of audio back to the provider gets before its first frame is sent, unless that much is
    /// already queued: a source that sends in real time (an agent streaming as it synthesises) then has this much
    /// margin for its own jitter, and the provider still gets one frame every 20 ms. A source that sends faster than
    /// real time (a whole sentence at once) starts at once. Zero sends each run from its first frame on.
    /// </summary>
    public TimeSpan OutputPlayoutDelay { get; set; } = TimeSpan.FromMilliseconds(60);

    /// <summary>How long one event publish (with the broker's confirm) may take before it is given up and logged.</summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IsSigningKey(TokenSigningKey))
        {
            yield return new ValidationResult(
                $"MediaStreams:TokenSigningKey must be the base64 of at least {StreamTokenService.MinKeyLength} random bytes, "
                + "the same key as webhook-ingress's Webhooks:Voice:StreamTokenSigningKey.",
                [nameof(TokenSigningKey)]);
        }

        foreach (var result in Check(ReportInterval, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), "ReportInterval", allowZero: false))
        {
            yield return result;
        }

        foreach (var result in Check(SinkStopTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1), "SinkStopTimeout", allowZero: false))
        {
            yield return result;
        }

        foreach (var result in Check(KeepAliveInterval, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10), "KeepAliveInterval", allowZero: true))
        {
            yield return result;
        }

        foreach (var result in Check(KeepAliveTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10), "KeepAliveTimeout", allowZero: true))
        {
            yield return result;
        }

        foreach (var result in Check(StartTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), "StartTimeout", allowZero: false))
        {
            yield return result;
        }

        foreach (var result in Check(OutputPlayoutDelay, TimeSpan.Zero, TimeSpan.FromSeconds(1), "OutputPlayoutDelay", allowZero: true))
        {
            yield return result;
        }

        foreach (var result in Check(MaxQueuedOutput, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(30), "MaxQueuedOutput", allowZero: false))
        {
            yield return result;
        }

        foreach (var result in Check(PublishTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1), "PublishTimeout", allowZero: false))
        {
            yield return result;
        }

        if (double.IsNaN(SilenceThresholdDbfs) || SilenceThresholdDbfs is < -96 or > 0)
        {
            yield return new ValidationResult("MediaStreams:SilenceThresholdDbfs must be between -96 and 0 (dBFS).", [nameof(SilenceThresholdDbfs)]);
        }
    }

    private static IEnumerable<ValidationResult> Check(TimeSpan value, TimeSpan min, TimeSpan max, string name, bool allowZero)
    {
        if ((allowZero && value == TimeSpan.Zero) || (value >= min && value <= max))
        {
            yield break;
        }

        var zero = allowZero ? " (or 00:00:00 to turn it off)" : string.Empty;
        yield return new ValidationResult($"MediaStreams:{name} must be between {min:c} and {max:c}{zero}; it is {value:c}.", [name]);
    }

    private static bool IsSigningKey(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out var written) && written >= StreamTokenService.MinKeyLength;
    }
}
