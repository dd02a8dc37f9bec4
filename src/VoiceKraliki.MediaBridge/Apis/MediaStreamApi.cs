using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.MediaBridge.Apis;

/// <summary>
/// The provider media-stream WebSockets. Each stream is read on its own; a malformed message closes
/// only that stream, with a close code that says why.
/// </summary>
internal static partial class MediaStreamApi
{
    private static readonly HashSet<string> KnownEvents =
        new(["connected", "start", "media", "dtmf", "mark", "stop", "error"], StringComparer.Ordinal);

    public static IEndpointRouteBuilder MapMediaStreamApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/media").AllowAnonymous();
        group.MapGet("/twilio", (HttpContext context, IOptions<MediaStreamOptions> options, MediaStreamMetrics metrics, ILoggerFactory loggers) =>
            AcceptAsync(context, TelephonyProvider.Twilio, options.Value, metrics, loggers));
        group.MapGet("/telnyx", (HttpContext context, IOptions<MediaStreamOptions> options, MediaStreamMetrics metrics, ILoggerFactory loggers) =>
            AcceptAsync(context, TelephonyProvider.Telnyx, options.Value, metrics, loggers));
        return endpoints;
    }

    private static async Task<IResult> AcceptAsync(
        HttpContext context,
        TelephonyProvider provider,
        MediaStreamOptions options,
        MediaStreamMetrics metrics,
        ILoggerFactory loggers)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "WebSocket upgrade required",
                detail: $"The {provider} media stream endpoint only accepts WebSocket connections.");
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var logger = loggers.CreateLogger("VoiceKraliki.MediaBridge.MediaStream");
        metrics.StreamOpened(provider);
        try
        {
            await ReadLoopAsync(socket, provider, options, metrics, logger, context.RequestAborted);
        }
        catch (WebSocketException ex)
        {
            LogStreamBroken(logger, provider, ex.WebSocketErrorCode);

            // The WebSocket layer itself closes a stream that breaks the protocol (text that is not
            // UTF-8 gets a 1007 close frame) and aborts. Linger briefly before the connection ends so
            // the peer reads that close frame instead of a connection reset.
            await LingerAsync(context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The peer went away.
        }
        finally
        {
            metrics.StreamClosed(provider);
        }

        return Results.Empty;
    }

    private static async Task ReadLoopAsync(
        WebSocket socket,
        TelephonyProvider provider,
        MediaStreamOptions options,
        MediaStreamMetrics metrics,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(options.MaxMessageBytes);
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == options.MaxMessageBytes)
                    {
                        await CloseAsync(socket, WebSocketCloseStatus.MessageTooBig,
                            $"message larger than {options.MaxMessageBytes} bytes", cancellationToken);
                        return;
                    }

                    result = await socket.ReceiveAsync(buffer.AsMemory(length, options.MaxMessageBytes - length), cancellationToken);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                    return;
                }

                if (result.MessageType != WebSocketMessageType.Text)
                {
                    await CloseAsync(socket, WebSocketCloseStatus.InvalidMessageType, "text JSON messages expected", cancellationToken);
                    return;
                }

                if (!TryReadEventName(buffer.AsSpan(0, length), out var eventName))
                {
                    metrics.MessageReceived(provider, "malformed");
                    LogMalformed(logger, provider);
                    await CloseAsync(socket, WebSocketCloseStatus.InvalidPayloadData, "malformed JSON message", cancellationToken);
                    return;
                }

                var known = KnownEvents.Contains(eventName);
                metrics.MessageReceived(provider, known ? eventName : "unknown");
                if (eventName == "stop")
                {
                    await CloseAsync(socket, WebSocketCloseStatus.NormalClosure, "stream stopped", cancellationToken);
                    return;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads the top-level <c>event</c> property of a provider message without materializing it.</summary>
    internal static bool TryReadEventName(ReadOnlySpan<byte> json, out string eventName)
    {
        eventName = string.Empty;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            string? found = null;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject && reader.CurrentDepth == 0)
                {
                    break;
                }

                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    var isEvent = reader.ValueTextEquals("event"u8);
                    reader.Read();
                    if (isEvent && reader.TokenType == JsonTokenType.String)
                    {
                        found = reader.GetString();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }

            // Reading to the end validates the whole document, not just its start.
            while (reader.Read())
            {
            }

            if (found is null)
            {
                return false;
            }

            eventName = found;
            return true;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // InvalidOperationException: a string value that is not valid UTF-8 cannot be transcoded.
            return false;
        }
    }

    private static async Task LingerAsync(CancellationToken connectionClosed)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1), connectionClosed);
        }
        catch (OperationCanceledException)
        {
            // The peer closed first: nothing to wait for.
        }
    }

    private static async Task CloseAsync(WebSocket socket, WebSocketCloseStatus status, string reason, CancellationToken cancellationToken)
    {
        if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            await socket.CloseAsync(status, reason, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Provider} media stream sent a malformed message; closing that stream")]
    private static partial void LogMalformed(ILogger logger, TelephonyProvider provider);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Provider} media stream ended abruptly ({ErrorCode})")]
    private static partial void LogStreamBroken(ILogger logger, TelephonyProvider provider, WebSocketError errorCode);
}
