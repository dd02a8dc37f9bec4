using VoiceKraliki.Alerting.Rules;

namespace VoiceKraliki.Alerting.Tests.Rules;

public class PromDurationTests
{
    [Theory]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("1h0m5s", 3605)]
    [InlineData("1d", 86400)]
    [InlineData("0s", 0)]
    [InlineData("0", 0)]
    [InlineData("", 0)]
    [InlineData(null, 0)]
    public void Prometheus_durations_parse_to_their_length(string? text, int seconds)
    {
        Assert.True(PromDuration.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Fact]
    public void Milliseconds_are_not_mistaken_for_minutes()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(1500), PromDuration.Parse("1s500ms"));
        Assert.Equal(TimeSpan.FromMinutes(2) + TimeSpan.FromMilliseconds(5), PromDuration.Parse("2m5ms"));
    }

    [Theory]
    [InlineData("5")]
    [InlineData("m")]
    [InlineData("5 m")]
    [InlineData(" 5m")]
    [InlineData("1.5m")]
    [InlineData("-5m")]
    [InlineData("5M")]
    [InlineData("30m1h")]
    [InlineData("5m5m")]
    [InlineData("5x")]
    [InlineData("PT5M")]
    [InlineData("99999999999999999999s")]
    [InlineData("9999999999999y")]
    public void Anything_else_is_not_a_duration(string text)
    {
        Assert.False(PromDuration.TryParse(text, out _));
        Assert.Throws<FormatException>(() => PromDuration.Parse(text));
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(30, "30s")]
    [InlineData(5400, "1h30m")]
    [InlineData(90061, "1d1h1m1s")]
    public void Durations_format_in_the_shortest_prometheus_notation(int seconds, string expected)
    {
        var text = PromDuration.Format(TimeSpan.FromSeconds(seconds));
        Assert.Equal(expected, text);
        Assert.Equal(TimeSpan.FromSeconds(seconds), PromDuration.Parse(text));
    }
}
