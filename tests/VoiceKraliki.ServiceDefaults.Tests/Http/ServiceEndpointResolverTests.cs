using Microsoft.Extensions.Configuration;
using VoiceKraliki.ServiceDefaults.Http;

namespace VoiceKraliki.ServiceDefaults.Tests.Http;

public class ServiceEndpointResolverTests
{
    private static ServiceEndpointResolver Resolver(params (string Key, string Value)[] settings) =>
        new(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build());

    [Theory]
    [InlineData("http://call-state/api/calls/CA1?page=2", "http://127.0.0.1:5103/api/calls/CA1?page=2")]
    [InlineData("http://call-state", "http://127.0.0.1:5103/")]
    [InlineData("http://CALL-STATE/x", "http://127.0.0.1:5103/x")]
    public void A_service_name_is_rewritten_to_its_configured_address_keeping_path_and_query(string input, string expected)
    {
        var resolver = Resolver(("services:call-state:http:0", "http://127.0.0.1:5103"));
        Assert.Equal(new Uri(expected), resolver.Rewrite(new Uri(input)));
    }

    [Fact]
    public void A_base_path_on_the_configured_address_is_kept_in_front_of_the_request_path()
    {
        var resolver = Resolver(("services:compliance:http:0", "http://10.0.0.5:8080/compliance/"));
        Assert.Equal(new Uri("http://10.0.0.5:8080/compliance/api/consent?x=1"),
            resolver.Rewrite(new Uri("http://compliance/api/consent?x=1")));
    }

    [Theory]
    [InlineData("http://unknown-service/x")]
    [InlineData("http://api.twilio.com/x")]
    [InlineData("http://localhost:5000/x")]
    [InlineData("http://127.0.0.1:5103/x")]
    [InlineData("http://[::1]:5103/x")]
    public void Hosts_that_are_not_configured_service_names_are_left_alone(string input)
    {
        var resolver = Resolver(
            ("services:call-state:http:0", "http://127.0.0.1:5103"),
            ("services:localhost:http:0", "http://127.0.0.1:9"),
            ("services:api.twilio.com:http:0", "http://127.0.0.1:9"));
        Assert.Equal(new Uri(input), resolver.Rewrite(new Uri(input)));
    }

    [Fact]
    public void Several_addresses_are_used_in_turn()
    {
        var resolver = Resolver(
            ("services:call-state:http:0", "http://127.0.0.1:5103"),
            ("services:call-state:http:1", "http://127.0.0.1:5104"));

        var picked = Enumerable.Range(0, 10).Select(_ => resolver.Rewrite(new Uri("http://call-state/x")).Port).ToList();

        Assert.Equal(5, picked.Count(p => p == 5103));
        Assert.Equal(5, picked.Count(p => p == 5104));
        for (var i = 1; i < picked.Count; i++)
        {
            Assert.NotEqual(picked[i - 1], picked[i]);
        }
    }

    [Fact]
    public void Indexes_are_ordered_numerically_and_invalid_addresses_skipped()
    {
        var resolver = Resolver(
            ("services:alerting:http:10", "http://127.0.0.1:5110"),
            ("services:alerting:http:2", "not a url"),
            ("services:alerting:http:1", "http://127.0.0.1:5101"));

        var picked = Enumerable.Range(0, 4).Select(_ => resolver.Resolve("alerting")!.Port).ToHashSet();

        Assert.Equal([5101, 5110], picked.Order());
    }

    [Fact]
    public void An_https_request_uses_the_https_address_when_one_is_configured()
    {
        var resolver = Resolver(
            ("services:compliance:http:0", "http://127.0.0.1:5105"),
            ("services:compliance:https:0", "https://127.0.0.1:7105"));
        Assert.Equal(new Uri("https://127.0.0.1:7105/x"), resolver.Rewrite(new Uri("https://compliance/x")));
        Assert.Equal(new Uri("http://127.0.0.1:5105/x"), resolver.Rewrite(new Uri("http://compliance/x")));
    }

    [Fact]
    public void Resolve_answers_null_for_a_service_with_no_addresses()
    {
        Assert.Null(Resolver().Resolve("call-state"));
    }
}
