using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using VoiceKraliki.Contracts;
using VoiceKraliki.WebhookIngress.Security;

namespace VoiceKraliki.WebhookIngress.Tests.Security;

public class SourceAllowlistTests
{
    // Nothing here talks to Redis; the address only has to be well-formed.
    private const string NoRedis = "127.0.0.1:1";

    private static (SourceAllowlist Allowlist, LogCollector Logs) Create(WebhookSecurityOptions options)
    {
        var logs = new LogCollector();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        return (new SourceAllowlist(Options.Create(options), factory.CreateLogger<SourceAllowlist>()), logs);
    }

    [Theory]
    [InlineData("192.76.120.128", true)]  // first address of 192.76.120.128/26 and /29
    [InlineData("192.76.120.151", true)]  // last of 192.76.120.144/29
    [InlineData("192.76.120.191", true)]  // last of 192.76.120.128/26
    [InlineData("192.76.120.192", true)]  // first of 192.76.120.192/27
    [InlineData("192.76.120.223", true)]  // last of 192.76.120.192/27
    [InlineData("192.76.120.224", false)]
    [InlineData("192.76.120.127", false)]
    [InlineData("185.246.41.0", true)]
    [InlineData("185.246.41.23", true)]   // last of 185.246.41.16/29
    [InlineData("185.246.41.24", false)]
    [InlineData("103.115.244.15", true)]  // last of 103.115.244.8/29
    [InlineData("103.115.244.16", false)]
    [InlineData("::ffff:185.246.41.9", true)]
    [InlineData("2001:db8::1", false)]
    [InlineData("203.0.113.9", false)]
    public void Telnyx_webhooks_are_accepted_only_from_the_published_ranges(string address, bool allowed)
    {
        var (allowlist, _) = Create(new WebhookSecurityOptions());
        Assert.Equal(allowed, allowlist.IsAllowed(TelephonyProvider.Telnyx, IPAddress.Parse(address)));
    }

    [Fact]
    public void Twilio_without_configured_ranges_accepts_any_address_and_says_the_signature_is_the_control()
    {
        var (allowlist, logs) = Create(new WebhookSecurityOptions());

        Assert.True(allowlist.IsAllowed(TelephonyProvider.Twilio, IPAddress.Parse("203.0.113.9")));
        Assert.True(allowlist.IsAllowed(TelephonyProvider.Twilio, IPAddress.Parse("2001:db8::1")));
        Assert.Equal(1, logs.Count("no published source ranges; the signature is the control"));
    }

    [Fact]
    public void A_disabled_allowlist_accepts_any_address()
    {
        var (allowlist, _) = Create(new WebhookSecurityOptions { Allowlist = { Enabled = false } });
        Assert.True(allowlist.IsAllowed(TelephonyProvider.Telnyx, IPAddress.Parse("203.0.113.9")));
    }

    [Fact]
    public void The_defaults_cover_every_published_telnyx_range_and_no_twilio_range()
    {
        var options = new WebhookSecurityOptions();

        Assert.Equal(10, options.Allowlist.EffectiveTelnyx.Count);
        Assert.Contains("192.76.120.192/27", options.Allowlist.EffectiveTelnyx);
        Assert.Contains("192.76.120.128/26", options.Allowlist.EffectiveTelnyx);
        Assert.Empty(options.Allowlist.EffectiveTwilio);
        Assert.Empty(options.TrustedProxies);
        Assert.True(options.Allowlist.Enabled);
        Assert.True(options.RateLimit.Enabled);
        Assert.Equal(100, options.RateLimit.FailedPerMinute);
        Assert.Equal(6000, options.RateLimit.TotalPerMinute);
        Assert.Equal(TimeSpan.FromMilliseconds(250), options.RateLimit.RedisTimeout);
        Assert.True(options.Replay.Enabled);
        Assert.Equal(TimeSpan.FromHours(24), options.Replay.Ttl);
        Assert.True(options.SignatureValidation);
    }

    [Fact]
    public void Configured_ranges_replace_the_defaults_instead_of_adding_to_them()
    {
        using var host = SecurityHost.Build(NoRedis, settings: new Dictionary<string, string?>
        {
            ["WebhookSecurity:Allowlist:Telnyx:0"] = "198.51.100.0/24",
            ["WebhookSecurity:Allowlist:Twilio:0"] = "203.0.113.0/24",
            ["WebhookSecurity:Allowlist:Twilio:1"] = "2001:db8::/32",
            ["WebhookSecurity:TrustedProxies:0"] = "10.0.0.2",
        });
        var options = host.Services.GetRequiredService<IOptions<WebhookSecurityOptions>>().Value;
        var allowlist = host.Services.GetRequiredService<SourceAllowlist>();

        Assert.Equal(new[] { "198.51.100.0/24" }, options.Allowlist.EffectiveTelnyx);
        Assert.Equal(new[] { "203.0.113.0/24", "2001:db8::/32" }, options.Allowlist.EffectiveTwilio);
        Assert.Equal(new[] { "10.0.0.2" }, options.TrustedProxies);
        Assert.True(allowlist.IsAllowed(TelephonyProvider.Telnyx, IPAddress.Parse("198.51.100.77")));
        Assert.False(allowlist.IsAllowed(TelephonyProvider.Telnyx, IPAddress.Parse("192.76.120.130")));
        Assert.True(allowlist.IsAllowed(TelephonyProvider.Twilio, IPAddress.Parse("2001:db8::5")));
        Assert.False(allowlist.IsAllowed(TelephonyProvider.Twilio, IPAddress.Parse("192.76.120.130")));
    }

    [Fact]
    public void Settings_bind_from_configuration()
    {
        using var host = SecurityHost.Build(NoRedis, settings: new Dictionary<string, string?>
        {
            ["WebhookSecurity:RateLimit:FailedPerMinute"] = "7",
            ["WebhookSecurity:RateLimit:TotalPerMinute"] = "70",
            ["WebhookSecurity:RateLimit:RedisTimeout"] = "00:00:00.100",
            ["WebhookSecurity:Replay:Ttl"] = "02:00:00",
            ["WebhookSecurity:SignatureValidation"] = "false",
        });
        var options = host.Services.GetRequiredService<IOptions<WebhookSecurityOptions>>().Value;

        Assert.Equal(7, options.RateLimit.FailedPerMinute);
        Assert.Equal(70, options.RateLimit.TotalPerMinute);
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.RateLimit.RedisTimeout);
        Assert.Equal(TimeSpan.FromHours(2), options.Replay.Ttl);
        Assert.False(options.SignatureValidation);
    }

    [Theory]
    [InlineData("WebhookSecurity:Allowlist:Telnyx:0", "192.76.120.128/33")]
    [InlineData("WebhookSecurity:Allowlist:Twilio:1", "not-a-range")]
    [InlineData("WebhookSecurity:TrustedProxies:0", "10.0.0.1/8")]
    public async Task An_invalid_range_stops_the_service_naming_the_key_and_the_value(string key, string value)
    {
        var settings = new Dictionary<string, string?> { [key] = value };
        if (key.StartsWith("WebhookSecurity:Allowlist:Twilio", StringComparison.Ordinal))
        {
            settings["WebhookSecurity:Allowlist:Twilio:0"] = "203.0.113.0/24";
        }

        var message = await StartupFailureAsync(settings);

        Assert.Contains(key, message);
        Assert.Contains(value, message);
    }

    [Theory]
    [InlineData("WebhookSecurity:RateLimit:FailedPerMinute", "0", "WebhookSecurity:RateLimit:FailedPerMinute must be between 1 and 100000")]
    [InlineData("WebhookSecurity:RateLimit:FailedPerMinute", "100001", "WebhookSecurity:RateLimit:FailedPerMinute must be between 1 and 100000")]
    [InlineData("WebhookSecurity:RateLimit:TotalPerMinute", "0", "WebhookSecurity:RateLimit:TotalPerMinute must be between 1 and")]
    [InlineData("WebhookSecurity:RateLimit:RedisTimeout", "00:00:00", "WebhookSecurity:RateLimit:RedisTimeout must be between")]
    [InlineData("WebhookSecurity:Replay:Ttl", "00:00:00", "WebhookSecurity:Replay:Ttl must be between")]
    public async Task An_out_of_range_setting_stops_the_service_naming_the_key(string key, string value, string expected)
    {
        Assert.Contains(expected, await StartupFailureAsync(new Dictionary<string, string?> { [key] = value }));
    }

    private static async Task<string> StartupFailureAsync(Dictionary<string, string?> settings)
    {
        using var host = SecurityHost.Build(NoRedis, settings: settings);
        var exception = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        return string.Join(" | ", exception.Failures);
    }
}
