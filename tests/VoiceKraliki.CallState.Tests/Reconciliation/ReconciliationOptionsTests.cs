using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceKraliki.CallState.Extensions;

namespace VoiceKraliki.CallState.Tests.Reconciliation;

/// <summary>A bad stuck-call or fast-tier setting stops the service at start, naming the key.</summary>
/// <remarks>
/// The service's own registrations on a plain host, not a WebApplicationFactory: factories whose start fails race
/// with each other when they run in parallel (and StartupValidationTests runs beside these).
/// </remarks>
public class ReconciliationOptionsTests
{
    private static readonly Dictionary<string, string?> ValidSettings = new()
    {
        ["ConnectionStrings:postgres-call-state"] = "Host=127.0.0.1;Port=1;Database=callstate;Username=u;Password=p",
        ["ConnectionStrings:redis"] = "127.0.0.1:1",
        ["ConnectionStrings:messaging"] = "amqp://u:p@127.0.0.1:1",
        ["Auth:ApiKeys:0:Key"] = "vk_test_0123456789abcdef",
        ["Auth:ApiKeys:0:Roles"] = "admin",
    };

    [Theory]
    [InlineData("Reconciliation:RingingTimeout", "00:00:00")]
    [InlineData("Reconciliation:AnsweredTimeout", "30.00:00:00")]
    [InlineData("Reconciliation:Interval", "00:00:00.001")]
    [InlineData("Reconciliation:ProviderTimeout", "01:00:00")]
    [InlineData("CallCache:WriteTimeout", "00:01:00")]
    [InlineData("CallCache:ReadTimeout", "00:00:00")]
    [InlineData("CallCache:SkipAfterFailure", "00:00:00.001")]
    [InlineData("CallCache:ProbeInterval", "01:00:00")]
    [InlineData("CallCache:TerminalSnapshotTtl", "00:00:00")]
    public async Task An_out_of_range_setting_stops_the_service_naming_the_key(string key, string value)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Development });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(ValidSettings) { [key] = value });
        builder.Logging.SetMinimumLevel(LogLevel.Critical);
        builder.AddServiceDefaults();
        builder.AddApplicationServices();
        using var host = builder.Build();

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => host.StartAsync());

        var messages = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is OptionsValidationException validation)
            {
                messages.AddRange(validation.Failures);
            }
        }

        Assert.Contains(key, string.Join(" | ", messages));
    }
}
