using Microsoft.Extensions.Options;

namespace VoiceKraliki.MediaBridge.Sinks.Agent;

/// <summary>
/// Bridges a stream to an AI agent when there is one for it: the stream's <c>agentUrl</c> parameter if its host is on
/// <c>Agent:AllowedHosts</c>, else <c>Agent:Url</c>. A stream that names an agent we do not allow gets no agent at all
/// (not the default one): whoever chose that URL meant a different agent, and a caller must never be able to point
/// us anywhere. The sink connects in the background, so the stream's start never waits for the agent; an agent that
/// cannot be reached means no agent for the stream, never a failed stream.
/// </summary>
internal sealed partial class AgentSinkFactory(IOptions<AgentOptions> options, TimeProvider time, ILogger<AgentSink> logger)
    : IMediaSinkFactory
{
    public const string AgentUrlParameter = "agentUrl";

    public ValueTask<IMediaSink?> CreateAsync(MediaStreamInfo stream, IProviderOutput output, CancellationToken cancellationToken)
    {
        var current = options.Value;
        var sink = ChooseAgent(stream, current) is { } agent ? AgentSink.Start(agent, stream, output, current, time, logger) : null;
        return ValueTask.FromResult<IMediaSink?>(sink);
    }

    private Uri? ChooseAgent(MediaStreamInfo stream, AgentOptions current)
    {
        if (stream.Parameters.TryGetValue(AgentUrlParameter, out var requested) && !string.IsNullOrWhiteSpace(requested))
        {
            if (AgentOptions.IsAgentUri(requested, out var uri) && current.IsAllowedHost(uri))
            {
                return uri;
            }

            // Only the host is logged: a URL can carry a token.
            var host = Uri.TryCreate(requested.Trim(), UriKind.Absolute, out var parsed) ? parsed.Authority : "(not an absolute URL)";
            LogAgentRefused(logger, stream.CallId, stream.StreamId, host.Length > 100 ? host[..100] : host);
            return null;
        }

        return !string.IsNullOrWhiteSpace(current.Url) && AgentOptions.IsAgentUri(current.Url, out var configured) ? configured : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call {CallId} stream {StreamId} asked for agent {AgentHost}, which is not a ws(s) URL on Agent:AllowedHosts; no agent for this stream")]
    private static partial void LogAgentRefused(ILogger logger, string callId, string streamId, string agentHost);
}
