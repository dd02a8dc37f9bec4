using System.Net.Sockets;
using System.Text;

namespace VoiceKraliki.AppHost.Tests.Support;

/// <summary>Speaks just enough Redis and AMQP to prove a server answers.</summary>
internal static class RawClients
{
    public static async Task<string> RedisCommandAsync(string connectionString, string command, CancellationToken cancellationToken)
    {
        var (host, port) = HostPort(connectionString);
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"), cancellationToken);
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer, cancellationToken);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }

    /// <summary>Sends the AMQP 0-9-1 header and returns the broker's first frame.</summary>
    public static async Task<byte[]> AmqpHandshakeAsync(string host, int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(host, port, cancellationToken);
        var stream = client.GetStream();
        await stream.WriteAsync("AMQP\0\0\x09\x01"u8.ToArray(), cancellationToken);
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer, cancellationToken);
        return buffer[..read];
    }

    public static (string Host, int Port) HostPort(string hostAndPort)
    {
        var colon = hostAndPort.LastIndexOf(':');
        return (hostAndPort[..colon], int.Parse(hostAndPort[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}
