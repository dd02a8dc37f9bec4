using VoiceKraliki.AppHost.Testing;

namespace VoiceKraliki.AppHost.Tests.Infrastructure;

/// <summary>One set of real servers (Postgres, Redis, RabbitMQ) for the whole collection: RabbitMQ alone takes ~7 s to start.</summary>
public sealed class InfrastructureFixture : IAsyncLifetime
{
    public DistributedApplication App { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        App = await DistributedApplicationTestingBuilder.StartInfrastructureAsync();
    }

    public async Task DisposeAsync() => await App.DisposeAsync();
}

/// <summary>Tests that start servers run one at a time: the machine has two cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InfrastructureCollection : ICollectionFixture<InfrastructureFixture>
{
    public const string Name = "Real infrastructure";
}
