using System.Net;
using System.Net.Sockets;
using VoiceKraliki.AppHost.Infrastructure;

namespace VoiceKraliki.AppHost.Tests.Infrastructure;

public sealed class PortAllocatorTests
{
    [Fact]
    public void Allocated_ports_are_distinct_and_free_on_loopback()
    {
        var allocator = new PortAllocator();

        var ports = Enumerable.Range(0, 20).Select(_ => allocator.Allocate()).ToArray();

        Assert.Equal(ports.Length, ports.Distinct().Count());
        foreach (var port in ports)
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
        }
    }

    [Fact]
    public void Reserving_a_port_in_use_fails_naming_the_port()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var error = Assert.Throws<DistributedApplicationException>(() => new PortAllocator().Reserve(port));

        Assert.Contains($"Port {port}", error.Message);
    }

    [Fact]
    public void A_listening_port_is_seen_in_proc_net_tcp()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        Assert.True(Probes.IsListening(port));
        listener.Stop();
        Assert.False(Probes.IsListening(port));
    }
}
