using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using VoiceKraliki.Gateway.Tests.Support;

namespace VoiceKraliki.Gateway.Tests.Proxy;

/// <summary>Provider media streams are WebSockets proxied through the gateway's one public port.</summary>
public class WebSocketProxyTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private Uri MediaUri(string pathAndQuery) => new UriBuilder(new Uri(fixture.Gateway.Address, pathAndQuery)) { Scheme = "ws" }.Uri;

    private static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        using var message = new MemoryStream();
        var buffer = new byte[64 * 1024];
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, cancellationToken);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

        return (result.MessageType, message.ToArray());
    }

    private async Task<(ClientWebSocket Socket, JsonElement Upgrade)> ConnectAsync(string path, CancellationToken cancellationToken, Action<ClientWebSocketOptions>? options = null)
    {
        var socket = new ClientWebSocket();
        options?.Invoke(socket.Options);
        await socket.ConnectAsync(MediaUri(path), cancellationToken);
        var (type, hello) = await ReceiveAsync(socket, cancellationToken);
        Assert.Equal(WebSocketMessageType.Text, type);
        return (socket, JsonDocument.Parse(hello).RootElement.Clone());
    }

    [Fact]
    public async Task A_media_websocket_reaches_the_backend_and_echoes_both_ways()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var (socket, upgrade) = await ConnectAsync("/media/twilio", cts.Token);
        using var _ = socket;

        // The backend's first message travelled backend -> client; it says what the backend saw.
        Assert.Equal("/media/twilio", upgrade.GetProperty("path").GetString());

        var text = """{"event":"media","media":{"payload":"/////w=="}}""";
        await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, cts.Token);
        var (textType, textEcho) = await ReceiveAsync(socket, cts.Token);
        Assert.Equal(WebSocketMessageType.Text, textType);
        Assert.Equal(text, Encoding.UTF8.GetString(textEcho));

        var binary = Enumerable.Range(0, 160).Select(i => (byte)i).ToArray();
        await socket.SendAsync(binary, WebSocketMessageType.Binary, true, cts.Token);
        var (binaryType, binaryEcho) = await ReceiveAsync(socket, cts.Token);
        Assert.Equal(WebSocketMessageType.Binary, binaryType);
        Assert.Equal(binary, binaryEcho);

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "call ended", cts.Token);
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task The_upgrade_request_gets_the_gateways_forwarded_headers_not_the_clients()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var (socket, upgrade) = await ConnectAsync("/media/telnyx?call=v3-abc", cts.Token, options =>
        {
            options.SetRequestHeader("X-Forwarded-For", "6.6.6.6");
            options.SetRequestHeader("X-Forwarded-Host", "evil.example");
            options.SetRequestHeader("Forwarded", "for=6.6.6.6");
        });
        using var _ = socket;
        var headers = upgrade.GetProperty("headers");

        Assert.Equal("/media/telnyx?call=v3-abc", upgrade.GetProperty("path").GetString());
        Assert.Equal("127.0.0.1", headers.GetProperty("x-forwarded-for").GetString());
        Assert.Equal($"127.0.0.1:{fixture.Gateway.Address.Port}", headers.GetProperty("x-forwarded-host").GetString());
        Assert.False(headers.TryGetProperty("forwarded", out var _));
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
    }

    [Fact]
    public async Task A_long_stream_is_not_cut_off_by_the_request_body_limit()
    {
        // A call streams far more than the 1 MiB body limit over its lifetime.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var (socket, _) = await ConnectAsync("/media/twilio", cts.Token);
        using var __ = socket;
        var frame = new byte[64 * 1024];
        Random.Shared.NextBytes(frame);

        for (var i = 0; i < 24; i++)
        {
            frame[0] = (byte)i;
            await socket.SendAsync(frame, WebSocketMessageType.Binary, true, cts.Token);
            var (_, echo) = await ReceiveAsync(socket, cts.Token);
            Assert.Equal(frame, echo);
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, cts.Token);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task Two_streams_through_the_gateway_do_not_mix()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var (a, _) = await ConnectAsync("/media/twilio", cts.Token);
        var (b, _) = await ConnectAsync("/media/telnyx", cts.Token);
        using var _a = a;
        using var _b = b;

        await a.SendAsync(Encoding.UTF8.GetBytes("from-a"), WebSocketMessageType.Text, true, cts.Token);
        await b.SendAsync(Encoding.UTF8.GetBytes("from-b"), WebSocketMessageType.Text, true, cts.Token);

        Assert.Equal("from-b", Encoding.UTF8.GetString((await ReceiveAsync(b, cts.Token)).Data));
        Assert.Equal("from-a", Encoding.UTF8.GetString((await ReceiveAsync(a, cts.Token)).Data));
    }
}
