using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.WebhookIngress.Tests;

/// <summary>A service with a bad or missing setting must refuse to start and name the key.</summary>
public class StartupValidationTests
{
    private static readonly Dictionary<string, string?> ValidSettings = new()
    {
        ["ConnectionStrings:redis"] = "127.0.0.1:1",
        ["ConnectionStrings:messaging"] = "amqp://u:p@127.0.0.1:1",
        ["Auth:ApiKeys:0:Key"] = "vk_test_0123456789abcdef",
        ["Auth:ApiKeys:0:Roles"] = "admin",
        ["Webhooks:Voice:StreamTokenSigningKey"] = Convert.ToBase64String(new byte[32]),
    };

    private static Exception StartWith(Dictionary<string, string?> settings)
    {
        using var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (key, value) in settings)
            {
                web.UseSetting(key, value);
            }
        });
        return Assert.ThrowsAny<Exception>(() => factory.CreateClient());
    }

    private static string Messages(Exception exception)
    {
        var all = new List<string>();
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            all.Add(e.Message);
            if (e is OptionsValidationException validation)
            {
                all.AddRange(validation.Failures);
            }
        }

        return string.Join(" | ", all);
    }

    [Theory]
    [InlineData("ConnectionStrings:redis")]
    [InlineData("ConnectionStrings:messaging")]
    [InlineData("Webhooks:Voice:StreamTokenSigningKey")]
    public void A_missing_setting_stops_the_service_naming_the_key(string key)
    {
        var settings = new Dictionary<string, string?>(ValidSettings) { [key] = "" };
        var exception = StartWith(settings);
        Assert.Contains(key, Messages(exception));
    }

    [Fact]
    public void An_api_key_with_an_unknown_role_stops_the_service()
    {
        var settings = new Dictionary<string, string?>(ValidSettings) { ["Auth:ApiKeys:0:Roles"] = "superuser" };
        Assert.Contains("Auth:ApiKeys", Messages(StartWith(settings)));
    }

    [Fact]
    public void A_telnyx_public_key_that_is_not_an_ed25519_key_stops_the_service()
    {
        var settings = new Dictionary<string, string?>(ValidSettings) { ["Telephony:Telnyx:PublicKey"] = "c2hvcnQ=" };
        Assert.Contains("Telephony:Telnyx:PublicKey", Messages(StartWith(settings)));
    }

    [Theory]
    [InlineData("Webhooks:PublishTimeout", "00:01:00")]
    [InlineData("Webhooks:Voice:StreamTokenSigningKey", "c2hvcnQ=")]
    [InlineData("WebhookSecurity:Allowlist:AdditionalRanges:0", "10.0.0.1/8")]
    public void An_out_of_range_webhook_setting_stops_the_service_naming_the_key(string key, string value)
    {
        var settings = new Dictionary<string, string?>(ValidSettings) { [key] = value };
        Assert.Contains(key.Split(':')[..^1].Aggregate((a, b) => a + ":" + b), Messages(StartWith(settings)));
    }
}
