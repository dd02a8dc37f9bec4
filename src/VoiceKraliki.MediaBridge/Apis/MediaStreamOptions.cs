using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.MediaBridge.Apis;

/// <summary>Bound from <c>MediaStreams</c>.</summary>
public sealed class MediaStreamOptions
{
    public const string SectionName = "MediaStreams";

    /// <summary>The largest single WebSocket message accepted; a 20 ms frame is well under 1 KiB.</summary>
    [Range(1024, 1024 * 1024, ErrorMessage = "MediaStreams:MaxMessageBytes must be between 1024 and 1048576.")]
    public int MaxMessageBytes { get; set; } = 64 * 1024;
}
