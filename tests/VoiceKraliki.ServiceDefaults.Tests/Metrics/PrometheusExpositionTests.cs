using System.Diagnostics.Metrics;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using VoiceKraliki.ServiceDefaults.Metrics;

namespace VoiceKraliki.ServiceDefaults.Tests.Metrics;

public class PrometheusExpositionTests
{
    private static readonly double[] OpenTelemetryDefaultBounds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);

    [Fact]
    public void Counter_is_a_total_per_label_set_named_from_instrument_and_unit()
    {
        using var harness = new MetricsHarness();
        var meter = harness.Meter();
        var calls = meter.CreateCounter<long>("voicekraliki.calls-started", unit: "{call}", description: "Calls started");
        var talk = meter.CreateCounter<double>("voicekraliki.talk.time", unit: "s");
        calls.Add(1, Tag("direction", "inbound"));
        calls.Add(2, Tag("direction", "inbound"));
        calls.Add(5, Tag("direction", "outbound"));
        talk.Add(1.5);
        talk.Add(2.25);

        var document = harness.Scrape();

        var family = document.Family("voicekraliki_calls_started_total");
        Assert.Equal("counter", family.Type);
        Assert.Equal("Calls started", family.Help);
        Assert.Equal(3, family.Value(("direction", "inbound")));
        Assert.Equal(5, family.Value(("direction", "outbound")));
        Assert.Equal(2, family.Samples.Count);
        Assert.All(family.Samples, s => Assert.Equal(meter.Name, s.Labels["otel_scope_name"]));
        Assert.Equal(3.75, document.Family("voicekraliki_talk_time_seconds_total").Value());
    }

    [Fact]
    public void Counters_are_cumulative_across_scrapes()
    {
        using var harness = new MetricsHarness();
        var counter = harness.Meter().CreateCounter<int>("voicekraliki.frames");
        counter.Add(4);
        Assert.Equal(4, harness.Scrape().Family("voicekraliki_frames_total").Value());

        counter.Add(6);
        Assert.Equal(10, harness.Scrape().Family("voicekraliki_frames_total").Value());
    }

    [Fact]
    public void Up_down_counters_and_gauges_are_gauges()
    {
        using var harness = new MetricsHarness();
        var meter = harness.Meter();
        var buffered = meter.CreateUpDownCounter<long>("voicekraliki.buffer.size", unit: "By");
        buffered.Add(100);
        buffered.Add(-30);
        meter.CreateObservableGauge("voicekraliki.queue.age", () => new[]
        {
            new Measurement<double>(2.5, Tag("queue", "calls")),
            new Measurement<double>(0.25, Tag("queue", "sms")),
        }, unit: "s");
        var temperature = meter.CreateGauge<int>("voicekraliki.cpu.temperature", unit: "Cel");
        temperature.Record(71);
        temperature.Record(64);

        var document = harness.Scrape();

        var size = document.Family("voicekraliki_buffer_size_bytes");
        Assert.Equal("gauge", size.Type);
        Assert.Equal(70, size.Value());
        var age = document.Family("voicekraliki_queue_age_seconds");
        Assert.Equal("gauge", age.Type);
        Assert.Equal(2.5, age.Value(("queue", "calls")));
        Assert.Equal(0.25, age.Value(("queue", "sms")));
        Assert.Equal(64, document.Family("voicekraliki_cpu_temperature_celsius").Value());
    }

    [Fact]
    public void Histogram_with_advised_buckets_has_cumulative_buckets_sum_and_count()
    {
        using var harness = new MetricsHarness();
        var latency = harness.Meter().CreateHistogram(
            "voicekraliki.media.frame-latency",
            unit: "ms",
            description: "Frame latency",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 10] });
        foreach (var value in new[] { 0.5, 1, 3, 7, 100, 100 })
        {
            latency.Record(value, Tag("codec", "pcmu"));
        }

        latency.Record(2, Tag("codec", "opus"));

        var family = harness.Scrape().Family("voicekraliki_media_frame_latency_milliseconds");

        Assert.Equal("histogram", family.Type);
        var pcmu = family.Histogram(("codec", "pcmu"));
        // An explicit bound is the bucket's inclusive upper end, so 1 counts in le="1".
        Assert.Equal([(1, 2), (5, 3), (10, 4), (double.PositiveInfinity, 6)], pcmu.Buckets);
        Assert.Equal(211.5, pcmu.Sum);
        Assert.Equal(6, pcmu.Count);
        var opus = family.Histogram(("codec", "opus"));
        Assert.Equal([(1, 0), (5, 1), (10, 1), (double.PositiveInfinity, 1)], opus.Buckets);
    }

    [Fact]
    public void Histogram_without_advice_uses_the_sdk_default_buckets()
    {
        using var harness = new MetricsHarness();
        var sizes = harness.Meter().CreateHistogram<long>("voicekraliki.payload.size", unit: "By");
        foreach (var value in new long[] { 3, 7, 7, 20_000 })
        {
            sizes.Record(value);
        }

        var series = harness.Scrape().Family("voicekraliki_payload_size_bytes").Histogram();

        Assert.Equal([.. OpenTelemetryDefaultBounds, double.PositiveInfinity], series.Buckets.Select(b => b.Le));
        var expected = OpenTelemetryDefaultBounds
            .Select(bound => (double)new long[] { 3, 7, 7, 20_000 }.Count(v => v <= bound))
            .Append(4);
        Assert.Equal(expected, series.Buckets.Select(b => b.Count));
        Assert.Equal(20_017, series.Sum);
        Assert.Equal(4, series.Count);
    }

    [Theory]
    [InlineData("say \"hi\"")]
    [InlineData("C:\\path\\to\\file")]
    [InlineData("line one\nline two")]
    [InlineData("trailing backslash \\")]
    [InlineData("\\\"\n\\n")]
    [InlineData("ünïcødé 🎧 Ω 電話")]
    [InlineData("")]
    public void Label_values_round_trip_exactly(string value)
    {
        using var harness = new MetricsHarness();
        var counter = harness.Meter().CreateCounter<long>("voicekraliki.nasty");
        counter.Add(7, Tag("nasty.value", value));
        counter.Add(1, Tag("nasty.value", "plain"));

        var text = harness.Exposition.Scrape();
        var family = PrometheusTextParser.Parse(text).Family("voicekraliki_nasty_total");

        Assert.Equal(7, family.Value(("nasty_value", value)));
        Assert.Equal(1, family.Value(("nasty_value", "plain")));
    }

    [Fact]
    public void Help_text_is_escaped_and_round_trips()
    {
        using var harness = new MetricsHarness();
        const string description = "First line\nsecond line with C:\\dir and \"quotes\" ünïcødé";
        harness.Meter().CreateCounter<long>("voicekraliki.described", description: description).Add(1);

        Assert.Equal(description, harness.Scrape().Family("voicekraliki_described_total").Help);
    }

    [Fact]
    public void Label_names_are_sanitized_and_clashing_keys_are_merged()
    {
        using var harness = new MetricsHarness();
        var meter = harness.Meter();
        meter.CreateCounter<long>("voicekraliki.labelled").Add(
            1,
            Tag("http.route", "/calls/{id}"),
            Tag("1st-key", "a"),
            Tag("a.b", "dot"),
            Tag("a_b", "underscore"),
            Tag("otel.scope.name", "mine"));
        meter.CreateHistogram<double>("voicekraliki.labelled.duration", unit: "s").Record(0.1, Tag("le", "mine"));

        var document = harness.Scrape();

        var labels = document.Family("voicekraliki_labelled_total").Single().Labels;
        Assert.Equal("/calls/{id}", labels["http_route"]);
        Assert.Equal("a", labels["_1st_key"]);
        // Keys that sanitize alike are joined with ';' in the order of the original keys.
        Assert.Equal("dot;underscore", labels["a_b"]);
        Assert.Equal("mine", labels["exported_otel_scope_name"]);
        Assert.Equal(meter.Name, labels["otel_scope_name"]);
        var histogram = document.Family("voicekraliki_labelled_duration_seconds").Histogram(("exported_le", "mine"));
        Assert.Equal(1, histogram.Count);
    }

    [Fact]
    public void Attribute_values_that_are_not_strings_are_formatted_invariantly()
    {
        using var harness = new MetricsHarness();
        harness.Meter().CreateCounter<long>("voicekraliki.typed").Add(
            1,
            Tag("int", 42),
            Tag("bool", true),
            Tag("double", 1.5),
            Tag("array", new[] { "a", "b\"" }));

        var labels = harness.Scrape().Family("voicekraliki_typed_total").Single().Labels;

        Assert.Equal("42", labels["int"]);
        Assert.Equal("true", labels["bool"]);
        Assert.Equal("1.5", labels["double"]);
        Assert.Equal("[\"a\",\"b\\u0022\"]", labels["array"]);
    }

    [Theory]
    [InlineData("voicekraliki.request.duration.seconds", "s", "histogram", "voicekraliki_request_duration_seconds")]
    [InlineData("voicekraliki.jobs.total", "{job}", "counter", "voicekraliki_jobs_total")]
    [InlineData("voicekraliki/odd-name..here", "1", "gauge", "voicekraliki_odd_name_here")]
    [InlineData("voicekraliki.throughput", "By/s", "gauge", "voicekraliki_throughput_bytes_per_second")]
    [InlineData("voicekraliki.requests", "{request}", "counter", "voicekraliki_requests_total")]
    [InlineData("voicekraliki.memory", "MiBy", "gauge", "voicekraliki_memory_mebibytes")]
    [InlineData("voicekraliki.widgets", "wid gets", "gauge", "voicekraliki_widgets_wid_gets")]
    public void Metric_names_follow_the_compatibility_rules(string instrument, string unit, string type, string expected)
    {
        using var harness = new MetricsHarness();
        var meter = harness.Meter();
        switch (type)
        {
            case "histogram":
                meter.CreateHistogram<double>(instrument, unit).Record(1);
                break;
            case "counter":
                meter.CreateCounter<long>(instrument, unit).Add(1);
                break;
            default:
                meter.CreateUpDownCounter<long>(instrument, unit).Add(1);
                break;
        }

        var document = harness.Scrape();

        var family = Assert.Single(document.Families, f => f.Name != "target_info");
        Assert.Equal(expected, family.Name);
        Assert.Equal(type, family.Type);
    }

    [Fact]
    public void Values_use_prometheus_float_spelling()
    {
        using var harness = new MetricsHarness();
        var values = new Dictionary<string, double>
        {
            ["pos-inf"] = double.PositiveInfinity,
            ["neg-inf"] = double.NegativeInfinity,
            ["nan"] = double.NaN,
            ["tiny"] = 1e-7,
            ["big-integer"] = 12_345_678_901,
            ["tenth"] = 0.1,
            ["negative"] = -42,
        };
        harness.Meter().CreateObservableGauge("voicekraliki.spelling", () => values.Select(v => new Measurement<double>(v.Value, Tag("case", v.Key))));

        var family = harness.Scrape().Family("voicekraliki_spelling");

        string Raw(string key) => family.Single(("case", key)).RawValue;
        Assert.Equal("+Inf", Raw("pos-inf"));
        Assert.Equal("-Inf", Raw("neg-inf"));
        Assert.Equal("NaN", Raw("nan"));
        Assert.Equal(1e-7, double.Parse(Raw("tiny"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("12345678901", Raw("big-integer"));
        Assert.Equal("0.1", Raw("tenth"));
        Assert.Equal("-42", Raw("negative"));
    }

    [Fact]
    public void Target_info_carries_the_resource_attributes()
    {
        using var harness = new MetricsHarness();
        harness.Meter().CreateCounter<long>("voicekraliki.any").Add(1);

        var document = harness.Scrape();

        var target = document.Family("target_info");
        Assert.Equal("gauge", target.Type);
        Assert.Same(target, document.Families[0]);
        var sample = target.Single();
        Assert.Equal(1, sample.Value);
        Assert.Equal("metrics-test", sample.Labels["service_name"]);
        Assert.Equal("instance-1", sample.Labels["service_instance_id"]);
    }

    [Fact]
    public void Same_instrument_in_two_meters_is_one_family_told_apart_by_scope()
    {
        using var harness = new MetricsHarness();
        var first = harness.Meter(".First", version: "1.2.3");
        var second = harness.Meter(".Second");
        first.CreateCounter<long>("voicekraliki.shared", description: "from first").Add(2);
        second.CreateCounter<long>("voicekraliki.shared", description: "from second").Add(3);
        first.CreateHistogram<double>("voicekraliki.shared.latency", unit: "s").Record(1);
        second.CreateHistogram<double>("voicekraliki.shared.latency", unit: "s").Record(2);

        var document = harness.Scrape();

        var family = document.Family("voicekraliki_shared_total");
        Assert.Equal(2, family.Value(("otel_scope_name", first.Name), ("otel_scope_version", "1.2.3")));
        Assert.Equal(3, family.Value(("otel_scope_name", second.Name)));
        Assert.DoesNotContain("otel_scope_version", family.Single(("otel_scope_name", second.Name)).Labels.Keys);
        var latency = document.Family("voicekraliki_shared_latency_seconds");
        Assert.Equal(1, latency.Histogram(("otel_scope_name", first.Name)).Sum);
        Assert.Equal(2, latency.Histogram(("otel_scope_name", second.Name)).Sum);
    }

    [Fact]
    public void Instruments_whose_names_clash_across_types_leave_one_family_and_a_valid_exposition()
    {
        using var harness = new MetricsHarness();
        var first = harness.Meter(".First");
        var second = harness.Meter(".Second");
        first.CreateCounter<long>("voicekraliki.clash").Add(1);
        second.CreateUpDownCounter<long>("voicekraliki.clash.total").Add(5);
        first.CreateHistogram<double>("voicekraliki.sizes").Record(1);
        second.CreateUpDownCounter<long>("voicekraliki.sizes.count").Add(5);
        second.CreateUpDownCounter<long>("target.info").Add(5);

        // The parser rejects a second TYPE and samples claimed by two families.
        var document = harness.Scrape();

        var clash = document.Family("voicekraliki_clash_total");
        var sample = Assert.Single(clash.Samples);
        Assert.Equal(clash.Type == "counter" ? 1 : 5, sample.Value);
        // A gauge named like the histogram's _count samples cannot sit beside it: exactly one is kept.
        Assert.True(document.Find("voicekraliki_sizes") is null ^ document.Find("voicekraliki_sizes_count") is null);
        Assert.Equal("metrics-test", document.Family("target_info").Single().Labels["service_name"]);
    }

    [Fact]
    public async Task Concurrent_scrapes_all_parse_and_never_go_backwards()
    {
        using var harness = new MetricsHarness();
        var meter = harness.Meter();
        var counter = meter.CreateCounter<long>("voicekraliki.concurrent");
        var histogram = meter.CreateHistogram<double>("voicekraliki.concurrent.latency", unit: "s");
        const int Recordings = 20_000;

        var recorder = Task.Run(() =>
        {
            for (var i = 0; i < Recordings; i++)
            {
                counter.Add(1, Tag("worker", i % 3));
                histogram.Record(i % 7, Tag("nasty", "q\"\\\n" + (i % 2)));
            }
        });

        var scrapers = Enumerable.Range(0, 8).Select(scraper => Task.Run(async () =>
        {
            var last = 0.0;
            for (var i = 0; i < 25; i++)
            {
                string text;
                if ((scraper + i) % 2 == 0)
                {
                    text = harness.Exposition.Scrape();
                }
                else
                {
                    using var stream = new MemoryStream();
                    await harness.Exposition.WriteAsync(stream, CancellationToken.None);
                    text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(stream.ToArray());
                }

                var document = PrometheusTextParser.Parse(text);
                var total = document.Find("voicekraliki_concurrent_total")?.Samples.Sum(s => s.Value) ?? 0;
                Assert.True(total >= last, $"scrape {i} of scraper {scraper} went from {last} to {total}");
                last = total;
            }
        })).ToList();

        await Task.WhenAll([recorder, .. scrapers]);

        var final = harness.Scrape();
        Assert.Equal(Recordings, final.Family("voicekraliki_concurrent_total").Samples.Sum(s => s.Value));
        Assert.Equal(Recordings, final.Family("voicekraliki_concurrent_latency_seconds").Matching("voicekraliki_concurrent_latency_seconds_count").Sum(s => s.Value));
    }

    [Fact]
    public async Task Write_async_writes_utf8_that_matches_scrape()
    {
        using var harness = new MetricsHarness();
        harness.Meter().CreateCounter<long>("voicekraliki.written").Add(3, Tag("name", "Žluťoučký kůň"));

        using var stream = new MemoryStream();
        await harness.Exposition.WriteAsync(stream, CancellationToken.None);

        var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(stream.ToArray());
        Assert.Equal(3, PrometheusTextParser.Parse(text).Family("voicekraliki_written_total").Value(("name", "Žluťoučký kůň")));
    }

    [Fact]
    public void Scrape_without_a_live_provider_fails_clearly()
    {
        var detached = new PrometheusExposition();
        Assert.Throws<InvalidOperationException>(detached.Scrape);

        var harness = new MetricsHarness();
        harness.Meter().CreateCounter<long>("voicekraliki.gone").Add(1);
        harness.Dispose();
        Assert.Throws<InvalidOperationException>(harness.Exposition.Scrape);
    }

    [Fact]
    public void An_exposition_attaches_to_one_provider_only()
    {
        using var harness = new MetricsHarness();

        Assert.Throws<InvalidOperationException>(() =>
            Sdk.CreateMeterProviderBuilder().AddPrometheusExposition(harness.Exposition));
    }

    [Fact]
    public void Exponential_histograms_are_left_out_without_breaking_the_exposition()
    {
        using var harness = new MetricsHarness(b => b.AddView("voicekraliki.exponential", new Base2ExponentialBucketHistogramConfiguration()));
        var meter = harness.Meter();
        meter.CreateHistogram<double>("voicekraliki.exponential").Record(3);
        meter.CreateCounter<long>("voicekraliki.kept").Add(1);

        var document = harness.Scrape();

        Assert.Null(document.Find("voicekraliki_exponential"));
        Assert.Equal(1, document.Family("voicekraliki_kept_total").Value());
    }
}
