using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Rules;

namespace VoiceKraliki.Alerting.Tests.Rules;

public class AnnotationTemplateTests
{
    private static readonly LabelSet Labels = LabelSet.Of(("provider", "twilio"), ("severity", "high"));

    [Fact]
    public void Labels_value_and_threshold_are_filled_in()
    {
        var text = AnnotationTemplate.Expand(
            "Drop rate on {{ $labels.provider }} is {{ $value }} (limit {{$threshold}}, {{ $labels.severity }})", Labels, 0.123456, 0.05);
        Assert.Equal("Drop rate on twilio is 0.1235 (limit 0.05, high)", text);
    }

    [Theory]
    [InlineData(512.0, "512")]
    [InlineData(0.1, "0.1")]
    [InlineData(3.14159265, "3.1416")]
    [InlineData(1234567.891, "1234567.891")]
    [InlineData(0.00001234, "0.00001234")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(0.0, "0")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    public void Values_print_with_at_most_four_decimals_in_invariant_culture(double value, string expected) =>
        Assert.Equal(expected, AnnotationTemplate.Expand("{{ $value }}", Labels, value, null));

    [Fact]
    public void Negative_zero_prints_as_zero() =>
        Assert.Equal("0", AnnotationTemplate.Expand("{{ $value }}", Labels, -0.0, null));

    [Fact]
    public void Unknown_placeholders_are_left_as_written()
    {
        const string template = "{{ $foo }} {{ humanize $value }} {{ .Labels.provider }} {{ $labels.bad-name }} {{ unclosed";
        Assert.Equal(template, AnnotationTemplate.Expand(template, Labels, 1, 2));
    }

    [Fact]
    public void A_label_the_alert_does_not_have_expands_to_nothing_as_in_prometheus() =>
        Assert.Equal("on  now", AnnotationTemplate.Expand("on {{ $labels.region }} now", Labels, 1, 2));

    [Fact]
    public void Stray_braces_before_a_placeholder_stay_as_text() =>
        Assert.Equal("{{ 7", AnnotationTemplate.Expand("{{ {{ $value }}", Labels, 7, null));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("{{")]
    [InlineData("}}{{")]
    [InlineData("{{}}")]
    [InlineData("{{ $labels. }}")]
    public void Odd_templates_never_throw(string? template)
    {
        var text = AnnotationTemplate.Expand(template, null, double.NaN, null);
        Assert.Equal(template ?? "", text);
    }

    [Fact]
    public void Every_annotation_is_expanded()
    {
        var expanded = AnnotationTemplate.ExpandAll(
            new Dictionary<string, string> { ["summary"] = "{{ $value }}", ["runbook_url"] = "https://x/{{ $labels.provider }}" }, Labels, 2, null);
        Assert.Equal("2", expanded["summary"]);
        Assert.Equal("https://x/twilio", expanded["runbook_url"]);
    }
}
