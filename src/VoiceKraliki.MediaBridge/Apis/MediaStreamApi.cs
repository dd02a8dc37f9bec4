using Microsoft.AspNetCore.Http.HttpResults;
using VoiceKraliki.Contracts;
using VoiceKraliki.MediaBridge.Streams;

namespace VoiceKraliki.MediaBridge.Apis;

/// <summary>
/// The provider media-stream WebSockets: <c>/media/twilio</c> and <c>/media/telnyx</c>. Each upgrade becomes one
/// <see cref="MediaStreamSession"/>; a stream that misbehaves is closed alone, with a close code that says why.
/// A Telnyx stream's token may come in the upgrade's query string (<c>?token=</c>).
/// </summary>
internal static class MediaStreamApi
{
    public static IEndpointRouteBuilder MapMediaStreamApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/media").AllowAnonymous();
        group.MapGet("/twilio", (HttpContext context, MediaStreamServices services) => AcceptAsync(context, TelephonyProvider.Twilio, services))
            .WithName("TwilioMediaStream")
            .WithSummary("Twilio Media Streams WebSocket (bidirectional).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        group.MapGet("/telnyx", (HttpContext context, MediaStreamServices services) => AcceptAsync(context, TelephonyProvider.Telnyx, services))
            .WithName("TelnyxMediaStream")
            .WithSummary("Telnyx media streaming WebSocket (bidirectional); the stream token may be given as ?token=.")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return endpoints;
    }

    private static async Task<Results<EmptyHttpResult, ProblemHttpResult>> AcceptAsync(
        HttpContext context, TelephonyProvider provider, MediaStreamServices services)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "WebSocket upgrade required",
                detail: $"The {provider} media stream endpoint only accepts WebSocket connections.");
        }

        var options = services.Options;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            // Pings keep proxies from idling a quiet stream out; an unanswered ping ends a dead one.
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : options.KeepAliveTimeout,
        });
        var queryToken = context.Request.Query[StreamAuthorizer.TokenParameter].ToString();
        var session = new MediaStreamSession(socket, provider, string.IsNullOrEmpty(queryToken) ? null : queryToken, services);
        await session.RunAsync(context.RequestAborted);
        return TypedResults.Empty;
    }
}
