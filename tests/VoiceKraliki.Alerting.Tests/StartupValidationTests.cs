using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;

namespace VoiceKraliki.Alerting.Tests;

/// <summary>A service with a bad or missing setting must refuse to start and name the key.</summary>
public class StartupValidationTests
{
    private static readonly Dictionary<string, string?> ValidSettings = new()
    {
        ["ConnectionStrings:postgres-alerting"] = "Host=127.0.0.1;Port=1;Database=alerting;Username=u;Password=p",
        ["ConnectionStrings:messaging"] = "amqp://u:p@127.0.0.1:1",
        ["Auth:ApiKeys:0:Key"] = "vk_test_0123456789abcdef",
        ["Auth:ApiKeys:0:Roles"] = "admin",
        ["Alerting:SecretKey"] = Convert.ToBase64String(new byte[32]),
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
    [InlineData("ConnectionStrings:postgres-alerting")]
    [InlineData("ConnectionStrings:messaging")]
    [InlineData("Alerting:SecretKey")]
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
    [InlineData("Alerting:SecretKey", "c2hvcnQ=")]
    [InlineData("Alerting:EvaluationInterval", "00:00:00")]
    [InlineData("Alerting:RulesFile", "/nonexistent/rules.json")]
    [InlineData("Alerting:ExternalUrl", "ftp://example.com/")]
    [InlineData("Alerting:Notifications:Route:GroupWait", "-00:00:01")]
    [InlineData("Alerting:Notifications:Route:Routes:0:Matchers:0", "9severity=\"high\"")]
    [InlineData("Alerting:Notifications:Inhibitions:0:SourceMatchers:0", "not a matcher")]
    public void A_bad_alerting_setting_stops_the_service_naming_the_key(string key, string value)
    {
        var settings = new Dictionary<string, string?>(ValidSettings) { [key] = value };
        if (key.Contains(":Routes:0:", StringComparison.Ordinal))
        {
            settings["Alerting:Notifications:Route:Routes:0:Name"] = "child";
        }

        Assert.Contains(key.Replace(":Matchers:0", ":Matchers", StringComparison.Ordinal).Replace(":SourceMatchers:0", ":SourceMatchers", StringComparison.Ordinal), Messages(StartWith(settings)));
    }

    [Fact]
    public void A_rule_file_with_a_bad_rule_stops_the_service_naming_the_field()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{"rules": [{"name": "x", "signal": "no_such_signal", "comparison": ">", "threshold": 1, "labels": {"severity": "high"}, "annotations": {"summary": "s"}}]}""");
            var settings = new Dictionary<string, string?>(ValidSettings) { ["Alerting:RulesFile"] = file };
            var messages = Messages(StartWith(settings));
            Assert.Contains("Alerting:RulesFile", messages);
            Assert.Contains("rules[0].signal", messages);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
