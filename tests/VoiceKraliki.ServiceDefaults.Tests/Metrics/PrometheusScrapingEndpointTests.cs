using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using VoiceKraliki.ServiceDefaults.Metrics;
using VoiceKraliki.ServiceDefaults.Tests.Support;

namespace VoiceKraliki.ServiceDefaults.Tests.Metrics;

/// <remarks>
/// OpenTelemetry listens to every meter of a given name in the process, so a host another test runs at the same time
/// would appear in this host's scrape as a second, identical series (which the strict parser rightly refuses): these
/// tests run alone. A service is one host per process, so production never sees this.
/// </remarks>
[Collection(ScrapedAlone.Name)]
public class PrometheusScrapingEndpointTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    /// <summary>A bare web app with the exposition in DI and the scraping endpoint mapped at <paramref name="path"/>.</summary>
    private sealed class MetricsApp : IAsyncDisposable
    {
        private MetricsApp(WebApplication app, MeterProvider provider, Meter meter)
        {
            App = app;
            Provider = provider;
            Meter = meter;
            Client = new HttpClient { BaseAddress = ServiceHost.BoundAddress(app), Timeout = Patience };
        }

        public WebApplication App { get; }

        public MeterProvider Provider { get; }

        public Meter Meter { get; }

        public HttpClient Client { get; }

        public static async Task<MetricsApp> StartAsync(string? path = null)
        {
            var meterName = "VoiceKraliki.Tests." + Guid.NewGuid().ToString("N");
            var exposition = new PrometheusExposition();
            var provider = Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("endpoint-test", serviceInstanceId: "endpoint-1"))
                .AddMeter(meterName, "Microsoft.AspNetCore.Hosting")
                .AddPrometheusExposition(exposition)
                .Build();

            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton(exposition);
            var app = builder.Build();
            app.MapGet("/hello/{name}", (string name) => $"hello {name}");
            if (path is null)
            {
                app.MapPrometheusScrapingEndpoint();
            }
            else
            {
                app.MapPrometheusScrapingEndpoint(path);
            }

            using var timeout = new CancellationTokenSource(Patience);
            await app.StartAsync(timeout.Token);
            return new MetricsApp(app, provider, new Meter(meterName));
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            using var timeout = new CancellationTokenSource(Patience);
            await App.StopAsync(timeout.Token);
            await App.DisposeAsync();
            Provider.Dispose();
            Meter.Dispose();
        }
    }

    private static async Task<(HttpResponseMessage Response, PrometheusDocument Document)> ScrapeAsync(HttpClient client, string path = "/metrics")
    {
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        return (response, PrometheusTextParser.Parse(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes)));
    }

    /// <summary>The server records a request's duration after the client has its response, so wait for it.</summary>
    private static async Task<PrometheusDocument> ScrapeUntilAsync(HttpClient client, Func<PrometheusDocument, bool> condition, string path = "/metrics")
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var (response, document) = await ScrapeAsync(client, path);
            response.Dispose();
            if (condition(document))
            {
                return document;
            }

            Assert.True(DateTime.UtcNow < deadline, "the expected metrics never appeared");
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }
    }

    private static bool HasRoute(PrometheusDocument document, string route) =>
        document.Find("http_server_request_duration_seconds")?.Matching("http_server_request_duration_seconds_count", ("http_route", route)).Any() == true;

    [Fact]
    public async Task Metrics_endpoint_serves_own_and_framework_metrics_as_text_format_0_0_4()
    {
        await using var app = await MetricsApp.StartAsync();
        app.Meter.CreateCounter<long>("voicekraliki.greetings").Add(2, new KeyValuePair<string, object?>("who", "\"world\"\n"));
        (await app.Client.GetAsync("/hello/world")).Dispose();

        var document = await ScrapeUntilAsync(app.Client, d => HasRoute(d, "/hello/{name}"));

        var (response, _) = await ScrapeAsync(app.Client);
        using (response)
        {
            Assert.Equal(PrometheusExposition.ContentType, response.Content.Headers.ContentType?.ToString());
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        }

        Assert.Equal(2, document.Family("voicekraliki_greetings_total").Value(("who", "\"world\"\n")));
        var duration = document.Family("http_server_request_duration_seconds")
            .Histogram(("http_route", "/hello/{name}"), ("http_response_status_code", "200"), ("otel_scope_name", "Microsoft.AspNetCore.Hosting"));
        Assert.True(duration.Count >= 1);
        Assert.Equal("endpoint-test", document.Family("target_info").Single().Labels["service_name"]);
    }

    [Fact]
    public async Task Head_answers_like_get_without_a_body()
    {
        await using var app = await MetricsApp.StartAsync();

        using var response = await app.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/metrics"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PrometheusExposition.ContentType, response.Content.Headers.ContentType?.ToString());
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Endpoint_can_be_mapped_at_another_path()
    {
        await using var app = await MetricsApp.StartAsync("/internal/prometheus");
        app.Meter.CreateCounter<long>("voicekraliki.elsewhere").Add(1);

        var (response, document) = await ScrapeAsync(app.Client, "/internal/prometheus");
        response.Dispose();

        Assert.Equal(1, document.Family("voicekraliki_elsewhere_total").Value());
        using var missing = await app.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Endpoint_answers_503_once_the_provider_is_gone()
    {
        await using var app = await MetricsApp.StartAsync();
        app.Provider.Dispose();

        using var response = await app.Client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Concurrent_http_scrapes_all_parse()
    {
        await using var app = await MetricsApp.StartAsync();
        var counter = app.Meter.CreateCounter<long>("voicekraliki.busy");
        counter.Add(1);

        var scrapes = Enumerable.Range(0, 16).Select(async _ =>
        {
            counter.Add(1);
            var (response, document) = await ScrapeAsync(app.Client);
            response.Dispose();
            return document.Family("voicekraliki_busy_total").Value();
        });

        var totals = await Task.WhenAll(scrapes);

        Assert.All(totals, t => Assert.InRange(t, 1, 17));
    }

    [Fact]
    public void Mapping_without_a_registered_exposition_fails_at_startup()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapPrometheusScrapingEndpoint());

        Assert.Contains(nameof(PrometheusExposition), error.Message);
    }

    [Fact]
    public async Task A_service_built_with_service_defaults_exposes_metrics()
    {
        await using var host = await ServiceHost.StartAsync(new Dictionary<string, string?> { ["OTEL_SERVICE_NAME"] = "metrics-host" });
        (await host.Client.GetAsync("/alive")).Dispose();

        var document = await ScrapeUntilAsync(host.Client, d => HasRoute(d, "/alive"));

        Assert.Equal("metrics-host", document.Family("target_info").Single().Labels["service_name"]);
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ScrapedAlone
{
    public const string Name = "Metrics scraped with no other host running";
}
