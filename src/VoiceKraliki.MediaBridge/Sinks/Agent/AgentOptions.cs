using System.ComponentModel.DataAnnotations;

namespace VoiceKraliki.MediaBridge.Sinks.Agent;

/// <summary>Bound from <c>Agent</c>. See docs/media-agent-protocol.md.</summary>
public sealed class AgentOptions : IValidatableObject
{
    public const string SectionName = "Agent";

    /// <summary>The agent every stream is bridged to (<c>ws://</c> or <c>wss://</c>); none by default.</summary>
    public string? Url { get; set; }

    /// <summary>
    /// Hosts a stream may name in its <c>agentUrl</c> parameter (<c>host</c> or <c>host:port</c>, exact, case-insensitive).
    /// Empty (the default): a stream cannot choose its agent.
    /// </summary>
    public string[] AllowedHosts { get; set; } = [];

    /// <summary>The rate of the PCM16 exchanged with the agent, both ways.</summary>
    public int SampleRate { get; set; } = 16000;

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long one message to the agent may take; an agent slower than this is dropped.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The largest JSON (text) message accepted from the agent; larger ones are discarded. Binary audio has no limit:
    /// it is played as it arrives, in pieces.
    /// </summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Url) && !IsAgentUri(Url, out _))
        {
            yield return new ValidationResult(
                "Agent:Url must be an absolute ws:// or wss:// URL without user info, e.g. wss://agent.example.com/media.", [nameof(Url)]);
        }

        foreach (var host in AllowedHosts)
        {
            if (string.IsNullOrWhiteSpace(host) || host.Contains('/', StringComparison.Ordinal) || host.Contains('*', StringComparison.Ordinal)
                || !Uri.TryCreate("ws://" + host.Trim(), UriKind.Absolute, out var parsed) || parsed.PathAndQuery != "/")
            {
                yield return new ValidationResult(
                    $"Agent:AllowedHosts entries must be a host name or host:port (no scheme, path or wildcard); '{host}' is not.", [nameof(AllowedHosts)]);
            }
        }

        if (SampleRate is not (8000 or 16000 or 24000 or 48000))
        {
            yield return new ValidationResult("Agent:SampleRate must be 8000, 16000, 24000 or 48000.", [nameof(SampleRate)]);
        }

        if (ConnectTimeout < TimeSpan.FromMilliseconds(100) || ConnectTimeout > TimeSpan.FromSeconds(60))
        {
            yield return new ValidationResult("Agent:ConnectTimeout must be between 00:00:00.1 and 00:01:00.", [nameof(ConnectTimeout)]);
        }

        if (SendTimeout < TimeSpan.FromMilliseconds(100) || SendTimeout > TimeSpan.FromSeconds(30))
        {
            yield return new ValidationResult("Agent:SendTimeout must be between 00:00:00.1 and 00:00:30.", [nameof(SendTimeout)]);
        }

        if (MaxMessageBytes is < 1024 or > 1024 * 1024)
        {
            yield return new ValidationResult("Agent:MaxMessageBytes must be between 1024 and 1048576.", [nameof(MaxMessageBytes)]);
        }
    }

    /// <summary>An absolute <c>ws</c>/<c>wss</c> URI with a host and no user info.</summary>
    internal static bool IsAgentUri(string value, out Uri uri)
    {
        uri = null!;
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var parsed)
            || parsed.Scheme is not ("ws" or "wss")
            || string.IsNullOrEmpty(parsed.Host)
            || parsed.UserInfo.Length > 0)
        {
            return false;
        }

        uri = parsed;
        return true;
    }

    /// <summary>Whether <paramref name="uri"/>'s host (and port, when the entry has one) is on <see cref="AllowedHosts"/>.</summary>
    internal bool IsAllowedHost(Uri uri) => AllowedHosts.Any(entry => Matches(entry.Trim(), uri));

    private static bool Matches(string entry, Uri uri)
    {
        if (!Uri.TryCreate("ws://" + entry, UriKind.Absolute, out var allowed)
            || !string.Equals(allowed.IdnHost, uri.IdnHost, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Uri cannot tell "host" from "host:80", so look for a port after the host (after the ']' of an IPv6 address).
        var afterHost = entry[(entry.LastIndexOf(']') + 1)..];
        return !afterHost.Contains(':', StringComparison.Ordinal) || allowed.Port == uri.Port;
    }
}
