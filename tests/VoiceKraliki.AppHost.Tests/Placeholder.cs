namespace VoiceKraliki.AppHost.Tests;

public class SmokeTests
{
    [Fact]
    public void Assembly_loads() => Assert.True(true);
}
