using VoiceKraliki.Alerting.Model;
using VoiceKraliki.Alerting.Notifications;

namespace VoiceKraliki.Alerting.Tests.Notifications;

public class LabelMatcherTests
{
    private static readonly LabelSet Alert = LabelSet.Of(("alertname", "call_drop_rate_high"), ("provider", "twilio"), ("severity", "high"));

    [Theory]
    [InlineData("provider=\"twilio\"", true)]
    [InlineData("provider = twilio", true)]
    [InlineData("provider!=\"twilio\"", false)]
    [InlineData("severity=~\"high|critical\"", true)]
    [InlineData("severity=~\"hi\"", false)] // anchored: the whole value must match
    [InlineData("severity!~\"low|medium\"", true)]
    [InlineData("team=\"\"", true)] // a missing label reads as empty
    [InlineData("team!=\"\"", false)]
    [InlineData("alertname=~\"call_.*\"", true)]
    public void Matchers_follow_alertmanager_semantics(string text, bool matches)
    {
        Assert.True(LabelMatcher.TryParse(text, out var matcher, out var error), error);
        Assert.Equal(matches, matcher!.Matches(Alert));
    }

    [Theory]
    [InlineData("")]
    [InlineData("provider")]
    [InlineData("9provider=\"x\"")]
    [InlineData("provider=~\"(\"")]
    [InlineData("provider==\"x\"")]
    [InlineData("provider=~\"(a)\\1\"")] // a backreference: not allowed (no backtracking, no ReDoS)
    public void Bad_matchers_are_refused_with_a_reason(string text)
    {
        Assert.False(LabelMatcher.TryParse(text, out var matcher, out var error));
        Assert.Null(matcher);
        Assert.NotEmpty(error);
    }

    [Fact]
    public void A_matcher_prints_as_it_parses()
    {
        Assert.True(LabelMatcher.TryParse("severity=~\"high|critical\"", out var matcher, out _));
        Assert.Equal("severity=~\"high|critical\"", matcher!.ToString());
        Assert.True(LabelMatcher.TryParse(matcher.ToString(), out var again, out _));
        Assert.Equal(matcher.ToString(), again!.ToString());
    }
}
