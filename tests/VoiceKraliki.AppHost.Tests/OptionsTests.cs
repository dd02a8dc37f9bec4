namespace VoiceKraliki.AppHost.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void The_command_line_is_parsed_and_the_rest_becomes_configuration()
    {
        var options = DistributedApplicationOptions.FromArgs(
            ["run", "--gateway-port", "9000", "--state-dir=/tmp/x", "--fresh", "--Replicas:webhook-ingress", "3"]);

        Assert.Equal(9000, options.GatewayPort);
        Assert.Equal("/tmp/x", options.StateDirectory);
        Assert.True(options.Fresh);
        Assert.False(options.InfrastructureOnly);
        Assert.Equal(["--Replicas:webhook-ingress", "3"], options.ConfigurationArgs);
    }

    [Fact]
    public void Defaults_are_port_8080_and_no_wipe()
    {
        var options = DistributedApplicationOptions.FromArgs([]);

        Assert.Equal(8080, options.GatewayPort);
        Assert.False(options.Fresh);
        Assert.Null(options.StateDirectory);
    }

    [Fact]
    public void A_bad_port_is_refused_with_the_option_name()
    {
        var error = Assert.Throws<DistributedApplicationException>(() => DistributedApplicationOptions.FromArgs(["--gateway-port", "http"]));
        Assert.Contains("--gateway-port", error.Message);
    }

    [Theory]
    [InlineData("12:00:01.123 fail: Microsoft.AspNetCore[0] boom", true)]
    [InlineData("12:00:01.123 crit: Host terminated", true)]
    [InlineData("Unhandled exception. System.InvalidOperationException", true)]
    [InlineData("2024-01-01 12:00:00.000 UTC [42] FATAL:  password authentication failed", true)]
    [InlineData("2024-01-01 12:00:00.000+00:00 [error] <0.1.0> oops", true)]
    [InlineData("12:00:01.123 info: Microsoft.Hosting.Lifetime[14] Now listening on: http://127.0.0.1:5000", false)]
    [InlineData("2024-01-01 12:00:00.000+00:00 [info] <0.1.0> accepting AMQP connection", false)]
    public void Error_lines_are_recognised(string line, bool isError) =>
        Assert.Equal(isError, AppHost.Infrastructure.LogLineClassifier.IsError(line));
}
