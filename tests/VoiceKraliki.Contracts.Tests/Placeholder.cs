namespace VoiceKraliki.Contracts.Tests;

public class SmokeTests
{
    [Fact]
    public void Assembly_loads() => Assert.True(true);
}
