using System.Net;
using System.Net.Sockets;

namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>Chooses free loopback ports, never the same one twice in this process.</summary>
public sealed class PortAllocator
{
    private readonly HashSet<int> _given = [];
    private readonly Lock _lock = new();

    public int Allocate()
    {
        lock (_lock)
        {
            while (true)
            {
                var port = Probe(0);
                if (_given.Add(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>Reserves a port the user asked for; fails with a clear message when something already listens there.</summary>
    public int Reserve(int port)
    {
        lock (_lock)
        {
            if (_given.Contains(port) || !IsAvailable(port))
            {
                throw new DistributedApplicationException(
                    $"Port {port} on 127.0.0.1 is already in use. Stop whatever listens there or choose another port (--gateway-port N).");
            }

            _given.Add(port);
            return port;
        }
    }

    public static bool IsAvailable(int port)
    {
        try
        {
            Probe(port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int Probe(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        socket.Listen(1);
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
