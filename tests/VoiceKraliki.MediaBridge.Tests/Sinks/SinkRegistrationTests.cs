using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceKraliki.MediaBridge.Sinks;
using VoiceKraliki.MediaBridge.Sinks.Agent;
using VoiceKraliki.MediaBridge.Sinks.Recording;

namespace VoiceKraliki.MediaBridge.Tests.Sinks;

public sealed class SinkRegistrationTests
{
    [Fact]
    public void The_recorder_and_the_agent_bridge_are_registered_with_the_configured_policy()
    {
        using var host = Build([]);

        Assert.Equal(
            [typeof(RecorderSinkFactory), typeof(AgentSinkFactory)],
            host.Services.GetServices<IMediaSinkFactory>().Select(f => f.GetType()));
        Assert.IsType<ConfiguredRecordingPolicy>(host.Services.GetRequiredService<IRecordingPolicy>());
        Assert.Equal(RecordingPolicyMode.Deny, host.Services.GetRequiredService<IOptions<RecordingOptions>>().Value.Policy);
    }

    [Fact]
    public void A_policy_registered_first_replaces_the_configured_one()
    {
        using var host = Build([], services => services.AddSingleton<IRecordingPolicy, DenyAll>());

        Assert.IsType<DenyAll>(host.Services.GetRequiredService<IRecordingPolicy>());
    }

    [Theory]
    [InlineData("Recording:Policy", "Sometimes", "Recording:Policy")]
    [InlineData("Recording:Directory", "relative/recordings", "Recording:Directory")]
    [InlineData("Recording:AllowedCallIdPrefixes:0", " ", "Recording:AllowedCallIdPrefixes")]
    [InlineData("Recording:FlushInterval", "00:10:00", "Recording:FlushInterval")]
    [InlineData("Agent:Url", "https://agent.example.com/media", "Agent:Url")]
    [InlineData("Agent:Url", "ws://user:pass@agent.example.com/media", "Agent:Url")]
    [InlineData("Agent:AllowedHosts:0", "*.example.com", "Agent:AllowedHosts")]
    [InlineData("Agent:AllowedHosts:0", "wss://agent.example.com", "Agent:AllowedHosts")]
    [InlineData("Agent:SampleRate", "22050", "Agent:SampleRate")]
    [InlineData("Agent:ConnectTimeout", "00:00:00", "Agent:ConnectTimeout")]
    [InlineData("Agent:SendTimeout", "00:05:00", "Agent:SendTimeout")]
    public async Task A_bad_setting_stops_the_service_at_start_naming_the_key(string key, string value, string named)
    {
        using var host = Build(new Dictionary<string, string?> { [key] = value });

        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Good_settings_start()
    {
        using var host = Build(new Dictionary<string, string?>
        {
            ["Recording:Directory"] = Path.Combine(Path.GetTempPath(), "vk-unused"),
            ["Recording:Policy"] = "AllowWhenRequested",
            ["Recording:AllowedCallIdPrefixes:0"] = "CAtest",
            ["Agent:Url"] = "wss://agent.example.com/media?token=abc",
            ["Agent:AllowedHosts:0"] = "agents.example.com",
            ["Agent:AllowedHosts:1"] = "10.0.0.7:9000",
            ["Agent:AllowedHosts:2"] = "[::1]:9000",
            ["Agent:SampleRate"] = "24000",
        });

        await host.StartAsync();
        await host.StopAsync();
    }

    private static IHost Build(Dictionary<string, string?> settings, Action<IServiceCollection>? before = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production", DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders();
        before?.Invoke(builder.Services);
        builder.AddMediaSinks();
        return builder.Build();
    }

    private sealed class DenyAll : IRecordingPolicy
    {
        public ValueTask<RecordingDecision> DecideAsync(MediaStreamInfo stream, CancellationToken cancellationToken) =>
            ValueTask.FromResult(RecordingDecision.Deny("test", "test"));
    }
}
