using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.CallState.Tests.Events;

/// <summary>A bad outbox setting stops the service at start and names the key.</summary>
public class OutboxOptionsTests
{
    [Theory]
    [InlineData("Outbox:BatchSize", "0")]
    [InlineData("Outbox:PollInterval", "00:00:00")]
    [InlineData("Outbox:PublishTimeout", "01:00:00")]
    [InlineData("Outbox:MaxBackoff", "00:00:00")]
    public void An_out_of_range_outbox_setting_stops_the_service(string key, string value)
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("ConnectionStrings:postgres-call-state", "Host=127.0.0.1;Port=1;Database=callstate;Username=u;Password=p");
            web.UseSetting("ConnectionStrings:redis", "127.0.0.1:1");
            web.UseSetting("ConnectionStrings:messaging", "amqp://u:p@127.0.0.1:1");
            web.UseSetting("Auth:ApiKeys:0:Key", "vk_test_0123456789abcdef");
            web.UseSetting("Auth:ApiKeys:0:Roles", "admin");
            web.UseSetting(key, value);
        });

        var exception = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        var messages = new List<string>();
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            messages.Add(e.Message);
            if (e is OptionsValidationException validation)
            {
                messages.AddRange(validation.Failures);
            }
        }

        Assert.Contains(key, string.Join(" | ", messages), StringComparison.Ordinal);
    }
}
