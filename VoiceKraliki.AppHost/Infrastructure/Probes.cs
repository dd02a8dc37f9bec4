using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>Readiness checks that speak each server's own protocol.</summary>
public static class Probes
{
    /// <summary>The AMQP 0-9-1 protocol header a client opens with.</summary>
    private static readonly byte[] AmqpHeader = "AMQP\0\0\x09\x01"u8.ToArray();

    public static async Task<bool> PostgresAsync(string connectionString, CancellationToken cancellationToken)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 3 };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            return await command.ExecuteScalarAsync(cancellationToken) is 1;
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or IOException or TimeoutException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary><c>PING</c> over a raw connection answers <c>+PONG</c> (or <c>-NOAUTH</c> when a password is required, which still means up).</summary>
    public static async Task<bool> RedisAsync(string host, int port, CancellationToken cancellationToken)
    {
        var reply = await ExchangeAsync(host, port, "PING\r\n"u8.ToArray(), cancellationToken);
        if (reply is null)
        {
            return false;
        }

        var text = Encoding.ASCII.GetString(reply);
        return text.StartsWith("+PONG", StringComparison.Ordinal) || text.StartsWith("-NOAUTH", StringComparison.Ordinal);
    }

    /// <summary>The broker answers the protocol header with a method frame (type 1): Connection.Start.</summary>
    public static async Task<bool> AmqpAsync(string host, int port, CancellationToken cancellationToken)
    {
        var reply = await ExchangeAsync(host, port, AmqpHeader, cancellationToken);
        return reply is { Length: > 0 } && reply[0] == 1;
    }

    /// <summary>True when something listens on 127.0.0.1:<paramref name="port"/> (from /proc/net/tcp: no connection is made).</summary>
    public static bool IsListening(int port)
    {
        var local = $"0100007F:{port:X4}";
        try
        {
            foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // fields[1] is local_address, fields[3] the state: 0A is LISTEN.
                if (fields.Length > 3 && fields[1] == local && fields[3] == "0A")
                {
                    return true;
                }
            }
        }
        catch (IOException)
        {
            return false;
        }

        return false;
    }

    private static async Task<byte[]?> ExchangeAsync(string host, int port, byte[] request, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            using var client = new TcpClient();
            await client.ConnectAsync(host, port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync(request, timeout.Token);
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer, timeout.Token);
            return read > 0 ? buffer[..read] : null;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }
}
