using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VoiceKraliki.MediaBridge.Tests.Sinks.Agent;

/// <summary>One message the agent received; <see cref="Closed"/> marks the end of the connection.</summary>
internal sealed record AgentMessage(WebSocketMessageType Type, byte[] Bytes)
{
    public static readonly AgentMessage Closed = new(WebSocketMessageType.Close, []);

    public string Text => Encoding.UTF8.GetString(Bytes);

    public JsonElement Json => JsonDocument.Parse(Bytes).RootElement;
}

/// <summary>
/// A real WebSocket agent on Kestrel (127.0.0.1, a free port): records what it receives, can echo audio back, send
/// text, drop the connection, or stop reading altogether to play a slow agent.
/// </summary>
internal sealed class AgentServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<AgentMessage> _received = Channel.CreateUnbounded<AgentMessage>();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private WebSocket? _socket;
    private int _connections;

    private AgentServer(bool echoAudio, bool reads)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.UseWebSockets();
        _app.Map("/agent", context => ServeAsync(context, echoAudio, reads));
    }

    public Uri Url { get; private set; } = null!;

    public int Connections => Volatile.Read(ref _connections);

    public static async Task<AgentServer> StartAsync(bool echoAudio = false, bool reads = true)
    {
        var server = new AgentServer(echoAudio, reads);
        await server._app.StartAsync();
        var address = new Uri(server._app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single());
        server.Url = new UriBuilder(address) { Scheme = "ws", Path = "/agent" }.Uri;
        return server;
    }

    public async Task<AgentMessage> NextAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await _received.Reader.ReadAsync(timeout.Token);
    }

    public Task SendTextAsync(string json) => SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text);

    public Task SendBinaryAsync(byte[] audio) => SendAsync(audio, WebSocketMessageType.Binary);

    public void Abort() => _socket?.Abort();

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _socket?.Abort();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
        _sending.Dispose();
    }

    private async Task SendAsync(byte[] message, WebSocketMessageType type)
    {
        await _sending.WaitAsync();
        try
        {
            await _socket!.SendAsync(message, type, endOfMessage: true, CancellationToken.None);
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task ServeAsync(HttpContext context, bool echoAudio, bool reads)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        _socket = socket;
        Interlocked.Increment(ref _connections);
        try
        {
            if (!reads)
            {
                await Task.Delay(Timeout.Infinite, _stopping.Token);
            }

            var buffer = new byte[64 * 1024];
            while (true)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, _stopping.Token);
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    break;
                }

                _received.Writer.TryWrite(new AgentMessage(result.MessageType, message.ToArray()));
                if (echoAudio && result.MessageType == WebSocketMessageType.Binary)
                {
                    await SendAsync(message.ToArray(), WebSocketMessageType.Binary);
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The bridge went away, or the test is over.
        }
        finally
        {
            _received.Writer.TryWrite(AgentMessage.Closed);
        }
    }
}
