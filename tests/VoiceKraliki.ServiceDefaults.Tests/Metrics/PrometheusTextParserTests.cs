namespace VoiceKraliki.ServiceDefaults.Tests.Metrics;

/// <summary>The parser the exposition tests rely on must itself reject what is malformed.</summary>
public class PrometheusTextParserTests
{
    private const string Valid = """
        # HELP http_requests_total Requests.\nSecond line with a \\ backslash.
        # TYPE http_requests_total counter
        http_requests_total{method="post",path="C:\\dir\\\"x\"\nnext"} 1027
        http_requests_total{method="get"} 3 1395066363000
        # TYPE temperature gauge
        temperature -Inf
        # A free comment.
        # TYPE latency_seconds histogram
        latency_seconds_bucket{le="0.05"} 1
        latency_seconds_bucket{le="1E+1"} 2
        latency_seconds_bucket{le="+Inf"} 3
        latency_seconds_sum 17.5
        latency_seconds_count 3

        """;

    private static string Lf(string text) => text.ReplaceLineEndings("\n");

    [Fact]
    public void Well_formed_exposition_parses_with_unescaped_help_and_label_values()
    {
        var document = PrometheusTextParser.Parse(Lf(Valid));

        Assert.Equal(["http_requests_total", "temperature", "latency_seconds"], document.Families.Select(f => f.Name));
        var requests = document.Family("http_requests_total");
        Assert.Equal("Requests.\nSecond line with a \\ backslash.", requests.Help);
        Assert.Equal(1027, requests.Value(("method", "post")));
        Assert.Equal("C:\\dir\\\"x\"\nnext", requests.Single(("method", "post")).Labels["path"]);
        Assert.Equal(double.NegativeInfinity, document.Family("temperature").Value());
        var latency = document.Family("latency_seconds").Histogram();
        Assert.Equal([(0.05, 1), (10, 2), (double.PositiveInfinity, 3)], latency.Buckets);
        Assert.Equal(17.5, latency.Sum);
    }

    [Theory]
    [InlineData("# TYPE a gauge\na 1", "line feed")]
    [InlineData("a 1\n", "no preceding TYPE")]
    [InlineData("# TYPE a gauge\n# TYPE a gauge\na 1\n", "second TYPE")]
    [InlineData("# TYPE a gauge\na 1\n# HELP a late\n", "after its samples")]
    [InlineData("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\n", "not contiguous")]
    [InlineData("# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n", "outside its family's block")]
    [InlineData("# TYPE 1a gauge\n", "not a valid metric name")]
    [InlineData("# TYPE a.b gauge\n", "not a valid metric name")]
    [InlineData("# TYPE a gauges\n", "unknown type")]
    [InlineData("# TYPE a gauge\na{b=\"x\\ty\"} 1\n", "invalid escape")]
    [InlineData("# TYPE a gauge\na{b=\"x} 1\n", "unterminated")]
    [InlineData("# TYPE a gauge\na{b=x} 1\n", "not quoted")]
    [InlineData("# TYPE a gauge\na{1b=\"x\"} 1\n", "not a valid label name")]
    [InlineData("# TYPE a gauge\na{__b=\"x\"} 1\n", "reserved")]
    [InlineData("# TYPE a gauge\na{b=\"x\",b=\"y\"} 1\n", "appears twice")]
    [InlineData("# TYPE a gauge\na{b=\"x\"} 1\na{b=\"x\"} 2\n", "duplicate series")]
    [InlineData("# TYPE a gauge\na 1,5\n", "not a valid sample value")]
    [InlineData("# TYPE a gauge\na Inf\n", "not a valid sample value")]
    [InlineData("# TYPE a gauge\na  1\n", "single space")]
    [InlineData("# TYPE a gauge\n\na 1\n", "blank line")]
    [InlineData("# HELP a bad \\t escape\n# TYPE a gauge\na 1\n", "invalid escape")]
    [InlineData("# HELP a only help\na 1\n", "no preceding TYPE")]
    [InlineData("# TYPE requests counter\nrequests 1\n", "_total")]
    [InlineData("# TYPE r_total counter\nr_total -1\n", "counter r_total has value")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "not cumulative")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n", "does not ascend")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "+Inf")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "differs from _count")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n", "_sum")]
    [InlineData("# TYPE h histogram\nh_bucket 2\n", "without an le")]
    [InlineData("# TYPE h histogram\nh 2\n", "no preceding TYPE")]
    [InlineData("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n# TYPE h_count gauge\n", "would belong to both")]
    public void Malformed_exposition_is_rejected(string text, string reason)
    {
        var error = Assert.Throws<PrometheusFormatException>(() => PrometheusTextParser.Parse(text));
        Assert.Contains(reason, error.Message);
    }
}
