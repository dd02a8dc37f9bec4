using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.Compliance.Tests;

/// <summary>A service with a bad or missing setting must refuse to start and name the key.</summary>
public class StartupValidationTests
{
    private static readonly Dictionary<string, string?> ValidSettings = new()
    {
        ["ConnectionStrings:postgres-compliance"] = "Host=127.0.0.1;Port=1;Database=compliance;Username=u;Password=p",
        ["ConnectionStrings:messaging"] = "amqp://u:p@127.0.0.1:1",
        ["ConnectionStrings:redis"] = "127.0.0.1:1",
        ["Compliance:SubjectKey"] = Convert.ToBase64String(new byte[32]),
        ["Auth:ApiKeys:0:Key"] = "vk_test_0123456789abcdef",
        ["Auth:ApiKeys:0:Roles"] = "admin",
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
        // The whole chain, stack included, so that a start that failed for another reason says which.
        var all = new List<string> { exception.ToString() };
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
    [InlineData("ConnectionStrings:postgres-compliance")]
    [InlineData("ConnectionStrings:messaging")]
    [InlineData("ConnectionStrings:redis")]
    [InlineData("Compliance:SubjectKey")]
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
    public void The_first_migration_creates_the_inbox_and_is_embedded()
    {
        var migrations = new VoiceKraliki.ServiceDefaults.Data.MigrationSource(typeof(Program).Assembly).Load();
        Assert.Equal("0001_inbox", migrations[0].Id);
        Assert.Contains("CREATE TABLE IF NOT EXISTS inbox_messages", migrations[0].Sql);
    }

    [Theory]
    [InlineData("Compliance:SubjectKey", "c2hvcnQ=")]
    [InlineData("Compliance:SubjectKey", "not base64!")]
    [InlineData("Compliance:DecisionCacheTtl", "00:00:00")]
    [InlineData("Compliance:MaxEvidenceBytes", "10")]
    [InlineData("Compliance:Retention:Regions:EU:Recordings:AfterDays", "0")]
    [InlineData("Compliance:Retention:Regions:EU:Recordings:Action", "shred")]
    [InlineData("Compliance:Retention:Regions:EU:Recordings:Action", "anonymize")]
    [InlineData("Compliance:Retention:Sweep:Interval", "00:00:00")]
    [InlineData("Compliance:Retention:Sweep:PollInterval", "01:00:00")]
    [InlineData("Compliance:Retention:Sweep:BatchSize", "0")]
    [InlineData("Compliance:Retention:Sweep:ConfirmationTimeout", "00:00:00")]
    [InlineData("Compliance:Retention:Sweep:RecordingHolders", "Media Bridge")]
    public void A_bad_compliance_setting_stops_the_service_naming_the_key(string key, string value)
    {
        var settings = new Dictionary<string, string?>(ValidSettings) { [key] = value };
        Assert.Contains(key, Messages(StartWith(settings)));
    }

    [Fact]
    public void A_retention_policy_for_an_unknown_region_stops_the_service_naming_it()
    {
        var settings = new Dictionary<string, string?>(ValidSettings) { ["Compliance:Retention:Regions:Atlantis:Recordings:AfterDays"] = "30" };
        Assert.Contains("Compliance:Retention:Regions:Atlantis: unknown region", Messages(StartWith(settings)));
    }
}
