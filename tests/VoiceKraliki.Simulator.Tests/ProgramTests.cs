using VoiceKraliki.Simulator.Scenarios;

namespace VoiceKraliki.Simulator.Tests;

public sealed class ProgramTests
{
    [Theory]
    [InlineData("")]
    [InlineData("run")]
    [InlineData("serve --port")]
    [InlineData("serve --port abc")]
    [InlineData("serve --port 70000")]
    [InlineData("serve --host localhost!")]
    [InlineData("serve --verbose")]
    public async Task Bad_arguments_exit_with_2(string commandLine)
    {
        Assert.Equal(2, await Program.Main(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void Serve_takes_port_and_host()
    {
        Assert.True(ServeCommand.TryParse(["serve", "--port", "5099", "--host", "0.0.0.0"], out var command, out _));

        Assert.Equal(5099, command.Port);
        Assert.Equal("0.0.0.0", command.Host.ToString());
    }

    [Theory]
    [InlineData("answer ring=1 talk=3", CallOutcome.Answer, 1, 3)]
    [InlineData("busy", CallOutcome.Busy, 1, 3)]
    [InlineData("no-answer ring=30s", CallOutcome.NoAnswer, 30, 3)]
    [InlineData("machine talk=0.5", CallOutcome.Machine, 1, 0.5)]
    public void Scenario_text_parses(string text, CallOutcome outcome, double ring, double talk)
    {
        var scenario = CallScenario.Parse(text);

        Assert.Equal(new CallScenario(outcome, TimeSpan.FromSeconds(ring), TimeSpan.FromSeconds(talk)), scenario);
    }

    [Theory]
    [InlineData("")]
    [InlineData("dance")]
    [InlineData("answer ring=-1")]
    [InlineData("answer hold=3")]
    public void Bad_scenario_text_is_refused(string text)
    {
        Assert.False(CallScenario.TryParse(text, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Fact]
    public void Bad_scenario_in_options_fails_at_construction_naming_the_key()
    {
        var ex = Assert.Throws<ArgumentException>(() => new ProviderSimulator(new SimulatorOptions { Scenarios = { ["+1555"] = "dance" } }));

        Assert.Contains("Simulator:Scenarios:+1555", ex.Message);
    }
}
