extern alias apphost;

using apphost::VoiceKraliki.AppHost;
using apphost::VoiceKraliki.AppHost.Testing;

namespace VoiceKraliki.WebhookIngress.Tests.Security;

/// <summary>One real Redis (with the rest of the infrastructure the AppHost starts) for the whole collection.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public DistributedApplication App { get; private set; } = null!;

    public string ConnectionString => App.GetConnectionString("redis");

    public async Task InitializeAsync()
    {
        App = await DistributedApplicationTestingBuilder.StartInfrastructureAsync();
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}

/// <summary>Tests on the real Redis run one at a time: one of them stops it, and the machine has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RedisCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "Real Redis";
}
