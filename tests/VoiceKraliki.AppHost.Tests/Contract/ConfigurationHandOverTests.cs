using Microsoft.Extensions.Configuration;
using VoiceKraliki.AppHost.Contract;
using VoiceKraliki.AppHost.Tests.Support;

namespace VoiceKraliki.AppHost.Tests.Contract;

public sealed class ConfigurationHandOverTests
{
    [Fact]
    public void A_section_flattens_to_double_underscore_variables()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Telephony:PublicBaseUrl"] = "https://voice.example.com",
            ["Telephony:Twilio:AuthToken"] = "token",
            ["Telephony:Telnyx:PublicKey"] = "key",
            ["Auth:ApiKeys:0:Key"] = "k",
            ["Other:Thing"] = "x",
        }).Build();

        var flattened = ConfigurationFlattener.Flatten(configuration.GetSection("Telephony")).ToDictionary();

        Assert.Equal(new Dictionary<string, string>
        {
            ["Telephony__PublicBaseUrl"] = "https://voice.example.com",
            ["Telephony__Twilio__AuthToken"] = "token",
            ["Telephony__Telnyx__PublicKey"] = "key",
        }, flattened);
    }

    [Fact]
    public async Task Telephony_goes_to_the_services_that_talk_to_providers_and_WebhookSecurity_to_webhook_ingress()
    {
        await using var model = BuiltModel.Create(new()
        {
            Configuration =
            {
                ["Telephony:Twilio:AuthToken"] = "twilio-token",
                ["Telephony:Telnyx:ApiKey"] = "telnyx-key",
                ["WebhookSecurity:MaxClockSkewSeconds"] = "300",
            },
        });

        foreach (var service in new[] { "webhook-ingress", "media-bridge", "call-state" })
        {
            var environment = model.Environment(service);
            Assert.Equal("twilio-token", environment["Telephony__Twilio__AuthToken"]);
            Assert.Equal("telnyx-key", environment["Telephony__Telnyx__ApiKey"]);
        }

        foreach (var service in new[] { "gateway", "compliance", "alerting" })
        {
            Assert.DoesNotContain(model.Environment(service).Keys, k => k.StartsWith("Telephony__", StringComparison.Ordinal));
        }

        Assert.Equal("300", model.Environment("webhook-ingress", replica: 1)["WebhookSecurity__MaxClockSkewSeconds"]);
        foreach (var service in ServiceEnvironmentTests.AllServices.Except(["webhook-ingress"]))
        {
            Assert.DoesNotContain(model.Environment(service).Keys, k => k.StartsWith("WebhookSecurity__", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task The_public_base_url_defaults_to_the_gateway_and_a_configured_one_wins()
    {
        await using (var model = BuiltModel.Create())
        {
            var gateway = model.App.GetEndpoint("gateway").GetLeftPart(UriPartial.Authority);
            Assert.Equal(gateway, model.Environment("webhook-ingress")["Telephony__PublicBaseUrl"]);
            Assert.Equal(gateway, model.Environment("media-bridge")["Telephony__PublicBaseUrl"]);
        }

        await using (var model = BuiltModel.Create(new() { Configuration = { ["Telephony:PublicBaseUrl"] = "https://voice.example.com" } }))
        {
            Assert.Equal("https://voice.example.com", model.Environment("call-state")["Telephony__PublicBaseUrl"]);
        }
    }

    [Fact]
    public async Task Configured_auth_goes_to_every_service_and_nothing_is_generated()
    {
        await using var model = BuiltModel.Create(new()
        {
            Configuration =
            {
                ["Auth:ApiKeys:0:Key"] = "configured-key-0123456789",
                ["Auth:ApiKeys:0:Roles"] = "operator,admin",
                ["Auth:Jwt:Authority"] = "https://login.example.com",
                ["Auth:Jwt:Audience"] = "voicekraliki",
            },
        });

        foreach (var service in ServiceEnvironmentTests.AllServices)
        {
            var environment = model.Environment(service);
            Assert.Equal("configured-key-0123456789", environment["Auth__ApiKeys__0__Key"]);
            Assert.Equal("operator,admin", environment["Auth__ApiKeys__0__Roles"]);
            Assert.Equal("https://login.example.com", environment["Auth__Jwt__Authority"]);
            Assert.False(environment.ContainsKey("Auth__Jwt__SigningKey"));
        }

        Assert.Null(model.App.DevApiKey);
        Assert.Null(model.App.DevOperatorJwt);
    }

    [Fact]
    public async Task Without_auth_configuration_every_service_gets_the_generated_admin_key_and_signing_key()
    {
        await using var model = BuiltModel.Create();

        Assert.StartsWith("vk_dev_", model.App.DevApiKey);
        foreach (var service in ServiceEnvironmentTests.AllServices)
        {
            var environment = model.Environment(service);
            Assert.Equal(model.App.DevApiKey, environment["Auth__ApiKeys__0__Key"]);
            Assert.Equal("admin", environment["Auth__ApiKeys__0__Roles"]);
            Assert.Equal(32, Convert.FromBase64String(environment["Auth__Jwt__SigningKey"]).Length);
            Assert.Equal("voicekraliki-local", environment["Auth__Jwt__Issuer"]);
            Assert.Equal("voicekraliki", environment["Auth__Jwt__Audience"]);
        }
    }
}
