using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace VoiceKraliki.MediaBridge.Sinks.Recording;

/// <summary>
/// The JSON file next to each WAV (<c>&lt;recordingId&gt;.json</c>): what the recording is of, for people and for
/// deletion. Written when the recording starts (so a crash still leaves the numbers an erasure request looks for)
/// and rewritten when it ends. <see cref="From"/> and <see cref="To"/> are personal data.
/// </summary>
public sealed record RecordingSidecar
{
    public int Version { get; init; } = 1;

    /// <summary>The file name without extension; also accepted as a <c>RetentionExpired.ResourceId</c>.</summary>
    public required string RecordingId { get; init; }

    public required string AudioFile { get; init; }

    /// <summary><c>twilio</c> or <c>telnyx</c>.</summary>
    public required string Provider { get; init; }

    public required string CallId { get; init; }

    public string? SessionId { get; init; }

    public required string StreamId { get; init; }

    public string? From { get; init; }

    public string? To { get; init; }

    /// <summary>When the stream started: stream time zero, the first sample of the file.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    public DateTimeOffset? EndedAt { get; init; }

    public string? StopReason { get; init; }

    public required int SampleRate { get; init; }

    public required int Channels { get; init; }

    /// <summary>Which track each channel holds, left first: <c>["inbound", "outbound"]</c> or one of them.</summary>
    public required IReadOnlyList<string> ChannelLayout { get; init; }

    /// <summary>Samples per channel in the file (0 until the recording ends).</summary>
    public long Frames { get; init; }

    /// <summary>The <see cref="RecordingDecision.Basis"/> that allowed the recording.</summary>
    public required string PolicyBasis { get; init; }

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,

        // A file, never HTML: keep "+14155550100" readable instead of "\u002B14155550100".
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
