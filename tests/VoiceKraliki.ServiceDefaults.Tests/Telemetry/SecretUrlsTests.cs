using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Trace;
using VoiceKraliki.ServiceDefaults.Telemetry;
using VoiceKraliki.ServiceDefaults.Tests.Support;

namespace VoiceKraliki.ServiceDefaults.Tests.Telemetry;

/// <summary>A client's secret URLs stay out of the traces the service exports; other clients' URLs are left as they are.</summary>
public sealed class SecretUrlsTests
{
    [Fact]
    public async Task Requests_through_the_handler_leave_only_scheme_host_and_port_in_the_exported_http_span()
    {
        await using var server = await LocalServer.StartAsync();
        var exported = new ConcurrentQueue<Activity>();
        using (Sdk.CreateTracerProviderBuilder()
                   .AddSource(SecretUrls.HttpClientSource, VoiceKralikiTelemetry.SourceName)
                   .SetSampler(new AlwaysOnSampler())
                   .AddProcessor(new SecretUrlRedactionProcessor())
                   .AddProcessor(new Capture(exported))
                   .Build())
        {
            using var secret = new HttpClient(new SecretUrlHandler { InnerHandler = new SocketsHttpHandler() });
            using var plain = new HttpClient(new SocketsHttpHandler());
            (await secret.PostAsync(new Uri(server.Address, "/services/T0001/B0001/s3cr3tT0k3n?x=1"), new StringContent("{}"))).Dispose();
            (await plain.GetAsync(new Uri(server.Address, "/api/calls/CA123"))).Dispose();
        }

        // The listener hears every HTTP client span in the process, other tests' too: keep those to this test's server.
        var authority = server.Address.Authority;
        var http = exported.Where(a => a.Source.Name == SecretUrls.HttpClientSource
                                       && (a.GetTagItem("url.full") as string)?.StartsWith($"http://{authority}/", StringComparison.Ordinal) == true).ToList();
        Assert.Equal(2, http.Count);
        Assert.Equal($"http://{authority}/REDACTED", http[0].GetTagItem("url.full"));
        Assert.Equal($"http://{authority}/api/calls/CA123", http[1].GetTagItem("url.full"));
        Assert.DoesNotContain(exported, a => a.TagObjects.Any(t => t.Value?.ToString()?.Contains("s3cr3tT0k3n", StringComparison.Ordinal) == true));
    }

    [Theory]
    [InlineData("https://hooks.slack.com/services/T/B/X", "https://hooks.slack.com/REDACTED")]
    [InlineData("http://127.0.0.1:8080/a?b=c", "http://127.0.0.1:8080/REDACTED")]
    [InlineData("not a url", "REDACTED")]
    public void A_url_keeps_only_its_scheme_host_and_port(string url, string redacted) => Assert.Equal(redacted, SecretUrls.Redact(url));

    private sealed class Capture(ConcurrentQueue<Activity> exported) : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data) => exported.Enqueue(data);
    }
}
