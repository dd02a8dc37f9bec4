namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>How to start one process.</summary>
internal sealed record ProcessSpec
{
    public required string FileName { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public required string WorkingDirectory { get; init; }

    /// <summary>Variables set on top of the AppHost's own environment (minus the keys the AppHost manages).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>The OS user to run as when the AppHost runs as root (servers refuse to, or should not, run as root).</summary>
    public string? User { get; init; }

    /// <summary>Where stdout and stderr go (appended).</summary>
    public required string LogPath { get; init; }

    /// <summary>The label error lines are echoed with, e.g. <c>webhook-ingress-1</c>.</summary>
    public required string Label { get; init; }

    /// <summary>Text the process's command line contains, to recognise it again after a crash of the AppHost.</summary>
    public required string Marker { get; init; }
}
