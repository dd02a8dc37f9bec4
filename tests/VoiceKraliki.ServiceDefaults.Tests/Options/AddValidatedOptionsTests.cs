using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.ServiceDefaults.Tests.Options;

public class AddValidatedOptionsTests
{
    public sealed class RecorderOptions : IValidatableObject
    {
        [Required(ErrorMessage = "Recorder:Bucket is required.")]
        public string? Bucket { get; set; }

        [Range(1, 3650, ErrorMessage = "Recorder:RetentionDays must be between 1 and 3650.")]
        public int RetentionDays { get; set; } = 30;

        public string? Region { get; set; }

        public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
        {
            if (Region is not null && !Region.StartsWith("eu-", StringComparison.Ordinal))
            {
                yield return new ValidationResult("Recorder:Region must be an EU region.", [nameof(Region)]);
            }
        }
    }

    private static IHost Build(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddValidatedOptions<RecorderOptions>("Recorder");
        return builder.Build();
    }

    private static async Task<OptionsValidationException> StartFailureAsync(Dictionary<string, string?> settings)
    {
        using var host = Build(settings);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(timeout.Token));
    }

    [Fact]
    public async Task Valid_settings_are_bound_and_the_host_starts()
    {
        using var host = Build(new() { ["Recorder:Bucket"] = "recordings", ["Recorder:RetentionDays"] = "90", ["Recorder:Region"] = "eu-west-1" });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StartAsync(timeout.Token);

        var options = host.Services.GetRequiredService<IOptions<RecorderOptions>>().Value;
        Assert.Equal("recordings", options.Bucket);
        Assert.Equal(90, options.RetentionDays);
        await host.StopAsync(timeout.Token);
    }

    [Fact]
    public async Task A_missing_required_setting_stops_the_host_at_start_naming_the_key()
    {
        var exception = await StartFailureAsync(new());
        Assert.Contains("Recorder:Bucket is required.", exception.Message);
    }

    [Fact]
    public async Task An_out_of_range_setting_stops_the_host_naming_the_key()
    {
        var exception = await StartFailureAsync(new() { ["Recorder:Bucket"] = "b", ["Recorder:RetentionDays"] = "0" });
        Assert.Contains("Recorder:RetentionDays", exception.Message);
    }

    [Fact]
    public async Task A_validatable_object_rule_stops_the_host_naming_the_key()
    {
        var exception = await StartFailureAsync(new() { ["Recorder:Bucket"] = "b", ["Recorder:Region"] = "us-east-1" });
        Assert.Contains("Recorder:Region must be an EU region.", exception.Message);
    }

    [Fact]
    public async Task Every_failure_is_reported_at_once()
    {
        var exception = await StartFailureAsync(new() { ["Recorder:RetentionDays"] = "99999" });
        Assert.Contains("Recorder:Bucket", exception.Message);
        Assert.Contains("Recorder:RetentionDays", exception.Message);
    }
}
