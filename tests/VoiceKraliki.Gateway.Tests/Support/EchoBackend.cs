using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VoiceKraliki.Gateway.Tests.Support;

/// <summary>What the backend saw of one proxied HTTP request.</summary>
public sealed record EchoedRequest(string Method, string Path, Dictionary<string, string> Headers, long BodyLength, string RemoteIp)
{
    public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
}

/// <summary>
/// A real backend on a free loopback port. Any path answers with the headers and body length it
/// received; <c>/media/*</c> is a WebSocket that first sends what it saw of the upgrade request as
/// JSON, then echoes every message (text or binary) until the client closes.
/// </summary>
public sealed class EchoBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private EchoBackend(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    /// <summary>HTTP requests that reached the backend (WebSocket upgrades included).</summary>
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<EchoBackend> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var backend = new EchoBackend(app);
        app.Use((context, next) =>
        {
            Interlocked.Increment(ref backend._requests);
            return next(context);
        });
        app.UseWebSockets();
        app.Map("/media/{provider}", EchoWebSocketAsync);
        app.Map("/{**path}", async (HttpContext context) =>
        {
            long length = 0;
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                length += read;
            }

            await context.Response.WriteAsJsonAsync(Describe(context, length), context.RequestAborted);
        });

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);
        backend.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        return backend;
    }

    private static EchoedRequest Describe(HttpContext context, long bodyLength) => new(
        context.Request.Method,
        context.Request.Path + context.Request.QueryString,
        context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
        bodyLength,
        context.Connection.RemoteIpAddress?.ToString() ?? "");

    private static async Task EchoWebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var hello = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(Describe(context, 0), System.Text.Json.JsonSerializerOptions.Web);
        await socket.SendAsync(hello, WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);

        var buffer = new byte[256 * 1024];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), context.RequestAborted);
                length += result.Count;
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, socket.CloseStatusDescription, context.RequestAborted);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, length), result.MessageType, endOfMessage: true, context.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    internal static string Utf8(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(bytes);
}
