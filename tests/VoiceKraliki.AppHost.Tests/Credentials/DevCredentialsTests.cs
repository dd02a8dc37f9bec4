using System.Security.Claims;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using VoiceKraliki.AppHost.Credentials;
using VoiceKraliki.AppHost.Testing;
using VoiceKraliki.AppHost.Tests.Support;

namespace VoiceKraliki.AppHost.Tests.Credentials;

public sealed class DevCredentialsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("voicekraliki-credentials-").FullName;

    [Fact]
    public void Generated_credentials_are_persisted_and_reused()
    {
        var path = Path.Combine(_folder, DevCredentials.FileName);

        var first = DevCredentials.LoadOrCreate(path, needApiKey: true, needSigningKey: true);
        var second = DevCredentials.LoadOrCreate(path, needApiKey: true, needSigningKey: true);

        Assert.Matches("^vk_dev_[A-Za-z0-9_-]{43}$", first.ApiKey);
        Assert.Equal(32, Convert.FromBase64String(first.JwtSigningKey!).Length);
        Assert.Equal(first.ApiKey, second.ApiKey);
        Assert.Equal(first.JwtSigningKey, second.JwtSigningKey);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
    }

    [Fact]
    public void Only_what_is_needed_is_generated()
    {
        var path = Path.Combine(_folder, DevCredentials.FileName);

        var keyOnly = DevCredentials.LoadOrCreate(path, needApiKey: true, needSigningKey: false);
        var both = DevCredentials.LoadOrCreate(path, needApiKey: true, needSigningKey: true);

        Assert.Null(keyOnly.JwtSigningKey);
        Assert.Equal(keyOnly.ApiKey, both.ApiKey);
        Assert.NotNull(both.JwtSigningKey);
    }

    [Fact]
    public void The_compliance_subject_key_is_generated_once_and_kept()
    {
        var path = Path.Combine(_folder, DevCredentials.FileName);

        var first = DevCredentials.LoadOrCreate(path, needApiKey: true, needSigningKey: false, needSubjectKey: true);
        var again = DevCredentials.LoadOrCreate(path, needApiKey: true, needSigningKey: true, needSubjectKey: true);

        // Changing it would orphan every stored consent, so a later run must find the same one.
        Assert.Equal(32, Convert.FromBase64String(first.ComplianceSubjectKey!).Length);
        Assert.Equal(first.ComplianceSubjectKey, again.ComplianceSubjectKey);
    }

    [Fact]
    public void The_service_api_key_is_generated_once_kept_and_unlike_the_admin_key()
    {
        var path = Path.Combine(_folder, DevCredentials.FileName);

        var before = DevCredentials.LoadOrCreate(path, needApiKey: true, needSigningKey: false);
        var first = DevCredentials.LoadOrCreate(path, needApiKey: true, needSigningKey: false, needServiceKey: true);
        var again = DevCredentials.LoadOrCreate(path, needApiKey: true, needSigningKey: true, needServiceKey: true);

        // A credentials file from before the service key gets one added, and keeps its admin key.
        Assert.Null(before.ServiceApiKey);
        Assert.Equal(before.ApiKey, first.ApiKey);
        Assert.Matches("^vk_dev_[A-Za-z0-9_-]{43}$", first.ServiceApiKey);
        Assert.NotEqual(first.ApiKey, first.ServiceApiKey);
        Assert.Equal(first.ServiceApiKey, again.ServiceApiKey);
    }

    [Fact]
    public async Task Without_api_keys_configured_media_bridge_asks_compliance_with_the_generated_service_key()
    {
        await using var model = BuiltModel.Create(new() { StateDirectory = _folder });
        var saved = DevCredentials.LoadOrCreate(Path.Combine(_folder, DevCredentials.FileName), needApiKey: true, needSigningKey: false);

        var environment = model.Environment(AppModel.MediaBridgeName);

        Assert.Equal(saved.ServiceApiKey, environment["Auth__ApiKeys__1__Key"]);
        Assert.Equal("service", environment["Auth__ApiKeys__1__Roles"]);
        Assert.Equal("local-service", environment["Auth__ApiKeys__1__Name"]);
        Assert.Equal(model.App.DevApiKey, environment["Auth__ApiKeys__0__Key"]);
        Assert.Equal(saved.ServiceApiKey, environment["Recording__ComplianceApiKey"]);
        Assert.Equal($"http://127.0.0.1:{model.Project(AppModel.ComplianceName).Ports[0]}", environment["services__compliance__http__0"]);
        // The policy stays the operator's choice: nothing here turns recording on.
        Assert.False(environment.ContainsKey("Recording__Policy"));
        // Compliance knows the key (every service gets the Auth section).
        Assert.Equal(saved.ServiceApiKey, model.Environment(AppModel.ComplianceName)["Auth__ApiKeys__1__Key"]);
    }

    [Fact]
    public async Task A_configured_compliance_api_key_or_configured_api_keys_are_left_alone()
    {
        await using (var configuredKey = BuiltModel.Create(new() { Configuration = { ["Recording:ComplianceApiKey"] = "configured-service-key-0123456789" } }))
        {
            var environment = configuredKey.Environment(AppModel.MediaBridgeName);
            Assert.Equal("configured-service-key-0123456789", environment["Recording__ComplianceApiKey"]);
            Assert.Equal("service", environment["Auth__ApiKeys__1__Roles"]);
        }

        await using var configuredKeys = BuiltModel.Create(new()
        {
            Configuration = { ["Auth:ApiKeys:0:Key"] = "configured-key-0123456789", ["Auth:ApiKeys:0:Roles"] = "admin" },
        });
        var media = configuredKeys.Environment(AppModel.MediaBridgeName);
        Assert.False(media.ContainsKey("Auth__ApiKeys__1__Key"));
        Assert.False(media.ContainsKey("Recording__ComplianceApiKey"));
    }

    [Fact]
    public async Task The_operator_token_is_a_valid_HS256_token_with_the_operator_role_for_12_hours()
    {
        var key = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var now = DateTimeOffset.UtcNow;

        var token = DevTokenIssuer.MintOperatorToken(key, DevCredentials.Issuer, DevCredentials.Audience, now);

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = "voicekraliki-local",
            ValidAudience = "voicekraliki",
            IssuerSigningKey = new SymmetricSecurityKey(Convert.FromBase64String(key)),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        var jwt = (JsonWebToken)result.SecurityToken;
        Assert.Equal("operator", jwt.GetClaim("role").Value);
        Assert.Equal("local-operator", jwt.Subject);
        Assert.Equal(now.AddHours(12).ToUnixTimeSeconds(), new DateTimeOffset(jwt.ValidTo).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task An_apphost_on_the_same_state_folder_reuses_the_generated_credentials()
    {
        string? apiKey;
        await using (var first = await DistributedApplicationTestingBuilder.CreateAsync(new() { StateDirectory = _folder }))
        {
            apiKey = first.DevApiKey;
            Assert.NotNull(first.DevOperatorJwt);
        }

        await using var second = await DistributedApplicationTestingBuilder.CreateAsync(new() { StateDirectory = _folder });
        Assert.Equal(apiKey, second.DevApiKey);
        Assert.True(File.Exists(Path.Combine(_folder, DevCredentials.FileName)));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
