using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using VoiceKraliki.WebhookIngress.Security;

namespace VoiceKraliki.WebhookIngress.Tests.Security;

public class ClientAddressResolverTests
{
    private const string Gateway = "10.0.0.2";

    private static ClientAddressResolver Resolver(params string[] trustedProxies) =>
        new(Options.Create(new WebhookSecurityOptions { TrustedProxies = [.. trustedProxies] }));

    private static string Resolve(ClientAddressResolver resolver, string peer, string? forwardedFor) =>
        resolver.Resolve(IPAddress.Parse(peer), forwardedFor).ToString();

    [Fact]
    public void Forwarded_for_from_an_untrusted_peer_is_ignored()
    {
        var resolver = Resolver(Gateway);
        Assert.Equal("203.0.113.50", Resolve(resolver, "203.0.113.50", "192.76.120.130"));
    }

    [Fact]
    public void With_no_trusted_proxies_the_peer_is_always_the_client()
    {
        Assert.Equal(Gateway, Resolve(Resolver(), Gateway, "192.76.120.130"));
    }

    [Fact]
    public void A_trusted_proxy_yields_the_rightmost_hop_it_did_not_write_itself()
    {
        var resolver = Resolver(Gateway);
        // Everything left of the hop our gateway appended was written by the client and proves nothing.
        Assert.Equal("198.51.100.7", Resolve(resolver, Gateway, "192.76.120.130, 198.51.100.7"));
    }

    [Fact]
    public void A_trusted_proxy_without_forwarded_for_is_itself_the_client()
    {
        Assert.Equal(Gateway, Resolve(Resolver(Gateway), Gateway, null));
        Assert.Equal(Gateway, Resolve(Resolver(Gateway), Gateway, ""));
    }

    [Fact]
    public void A_chain_of_trusted_proxies_is_walked_back_to_the_first_untrusted_hop()
    {
        var resolver = Resolver("10.0.0.0/8", "172.16.5.1");
        Assert.Equal("203.0.113.9", Resolve(resolver, "10.1.1.1", "192.0.2.1, 203.0.113.9, 172.16.5.1, 10.0.0.5"));
    }

    [Fact]
    public void When_every_hop_is_a_trusted_proxy_the_leftmost_is_the_client()
    {
        var resolver = Resolver("10.0.0.0/8");
        Assert.Equal("10.0.0.7", Resolve(resolver, "10.1.1.1", "10.0.0.7, 10.0.0.5"));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("unknown")]
    [InlineData("203.0.113.9, not-an-address")]
    [InlineData("203.0.113.9,")]
    [InlineData("203.0.113.9, , 10.0.0.5")]
    [InlineData("1")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("203.0.113.9:port")]
    [InlineData("[2001:db8::1")]
    [InlineData("203.0.113.9 198.51.100.7")]
    public void A_malformed_hop_stops_the_walk_and_the_peer_is_the_client(string forwardedFor)
    {
        var resolver = Resolver("10.0.0.0/8");
        Assert.Equal(Gateway, Resolve(resolver, Gateway, forwardedFor));
    }

    [Fact]
    public void Garbage_left_of_the_client_hop_does_not_matter()
    {
        Assert.Equal("203.0.113.9", Resolve(Resolver(Gateway), Gateway, "<script>, 203.0.113.9"));
    }

    [Theory]
    [InlineData("203.0.113.9:4711", "203.0.113.9")]
    [InlineData("[2001:db8::7]:443", "2001:db8::7")]
    [InlineData("[2001:db8::7]", "2001:db8::7")]
    public void A_hop_with_a_port_yields_its_address(string forwardedFor, string expected)
    {
        Assert.Equal(expected, Resolve(Resolver(Gateway), Gateway, forwardedFor));
    }

    [Fact]
    public void Ipv6_proxies_and_clients_are_resolved()
    {
        var resolver = Resolver("2001:db8:ffff::/48");
        Assert.Equal("2001:db8::42", Resolve(resolver, "2001:db8:ffff::1", "2001:db8::42, 2001:db8:ffff::9"));
        Assert.Equal("2001:db8:1::1", Resolve(resolver, "2001:db8:1::1", "2001:db8::42"));
    }

    [Fact]
    public void Ipv4_mapped_addresses_are_treated_as_ipv4()
    {
        var resolver = Resolver(Gateway);
        // A dual-stack listener reports the gateway as ::ffff:10.0.0.2; it is still the trusted gateway.
        Assert.Equal("198.51.100.7", Resolve(resolver, "::ffff:10.0.0.2", "198.51.100.7"));
        Assert.Equal("198.51.100.7", Resolve(resolver, Gateway, "::ffff:198.51.100.7"));
        Assert.Equal("203.0.113.50", Resolve(resolver, "::ffff:203.0.113.50", "192.76.120.130"));
    }

    [Fact]
    public void A_connection_without_a_peer_address_resolves_to_none()
    {
        Assert.Equal(IPAddress.None, Resolver(Gateway).Resolve(null, "198.51.100.7"));
    }

    [Fact]
    public void Repeated_forwarded_for_headers_are_read_as_one_list()
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(Gateway);
        context.Request.Headers.Append("X-Forwarded-For", "192.76.120.130");
        context.Request.Headers.Append("X-Forwarded-For", "198.51.100.7");

        Assert.Equal(IPAddress.Parse("198.51.100.7"), Resolver(Gateway).Resolve(context));
    }
}
