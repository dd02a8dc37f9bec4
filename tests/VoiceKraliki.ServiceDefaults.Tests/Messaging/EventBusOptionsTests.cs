using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using VoiceKraliki.ServiceDefaults.Messaging;

namespace VoiceKraliki.ServiceDefaults.Tests.Messaging;

public class EventBusOptionsTests
{
    private static EventBusOptions Bind(params (string Key, string Value)[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:messaging"] = "amqp://vk:secret@127.0.0.1:5672",
        });
        builder.Configuration.AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));
        builder.AddEventBus();
        using var host = builder.Build();
        return host.Services.GetRequiredService<IOptions<EventBusOptions>>().Value;
    }

    [Fact]
    public void Without_configuration_the_default_retry_intervals_apply()
    {
        Assert.Equal(EventBusOptions.DefaultRetryIntervals, Bind().EffectiveRetryIntervals);
    }

    [Fact]
    public void Configured_retry_intervals_replace_the_defaults_instead_of_being_appended()
    {
        var options = Bind(("EventBus:RetryIntervals:0", "10"), ("EventBus:RetryIntervals:1", "20"));
        Assert.Equal([10, 20], options.EffectiveRetryIntervals);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("60001")]
    public void An_out_of_range_retry_interval_is_refused_naming_the_key(string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Bind(("EventBus:RetryIntervals:0", value)));
        Assert.Contains("EventBus:RetryIntervals", error.Message);
    }
}
