using VoiceKraliki.AppHost.Infrastructure;
using VoiceKraliki.AppHost.Model;

namespace VoiceKraliki.AppHost.Orchestration;

/// <summary>
/// Starts every resource as soon as what it waits for is healthy (independent ones in parallel), and stops
/// services before the servers they use. The same code runs <c>dotnet run</c> and the tests.
/// </summary>
internal sealed class Orchestrator
{
    private readonly ResourceRunner[] _runners;
    private readonly Dictionary<string, ResourceRunner> _byName;
    private readonly Dictionary<string, IResource> _resources;

    public Orchestrator(IEnumerable<IResource> resources, OrchestrationContext context)
    {
        _resources = resources.ToDictionary(r => r.Name, StringComparer.Ordinal);
        _runners = [.. _resources.Values.Select(r => CreateDriver(r, context)).OfType<ResourceDriver>().Select(d => new ResourceRunner(d, context))];
        _byName = _runners.ToDictionary(r => r.Name, StringComparer.Ordinal);
        foreach (var runner in _runners)
        {
            runner.Changed += snapshot => StateChanged?.Invoke(snapshot);
        }
    }

    public event Action<ResourceSnapshot>? StateChanged;

    public IReadOnlyList<ResourceRunner> Runners => _runners;

    public ResourceRunner Get(string name)
    {
        if (_resources.TryGetValue(name, out var resource) && resource is IResourceWithParent child)
        {
            return Get(child.Parent.Name);
        }

        return _byName.TryGetValue(name, out var runner)
            ? runner
            : throw new ArgumentException($"No resource named '{name}'. Resources: {string.Join(", ", _byName.Keys)}.", nameof(name));
    }

    public IResource GetResource(string name) =>
        _resources.TryGetValue(name, out var resource)
            ? resource
            : throw new ArgumentException($"No resource named '{name}'. Resources: {string.Join(", ", _resources.Keys)}.", nameof(name));

    /// <summary>Starts everything; returns when every resource is healthy.</summary>
    public Task StartAsync(CancellationToken cancellationToken) =>
        Task.WhenAll(_runners.Select(r => StartAfterDependenciesAsync(r, cancellationToken)));

    public async Task StartResourceAsync(string name, CancellationToken cancellationToken)
    {
        var runner = Get(name);
        await runner.StartAsync(cancellationToken);
        await runner.WaitForHealthyAsync(cancellationToken);
    }

    /// <summary>Services first (in parallel), then the servers (in parallel).</summary>
    public async Task StopAsync()
    {
        await Task.WhenAll(_runners.Where(r => r.Driver is ProjectDriver).Select(r => r.StopAsync()));
        await Task.WhenAll(_runners.Where(r => r.Driver is not ProjectDriver).Select(r => r.StopAsync()));
    }

    private async Task StartAfterDependenciesAsync(ResourceRunner runner, CancellationToken cancellationToken)
    {
        var dependencies = runner.WaitsFor.Where(d => _resources.ContainsKey(d.Name)).Select(d => Get(d.Name)).Distinct().ToArray();
        if (dependencies.Length > 0)
        {
            runner.MarkWaiting();
            await Task.WhenAll(dependencies.Select(d => d.WaitForHealthyAsync(cancellationToken)));
        }

        await runner.StartAsync(cancellationToken);
        await runner.WaitForHealthyAsync(cancellationToken);
    }

    private static ResourceDriver? CreateDriver(IResource resource, OrchestrationContext context) => resource switch
    {
        PostgresServerResource postgres => new PostgresDriver(postgres, context),
        RedisResource redis => new RedisDriver(redis, context),
        RabbitMQServerResource rabbit => new RabbitMqDriver(rabbit, context),
        ProjectResource project => new ProjectDriver(project, context),
        // Databases are made by their server's driver and are ready with it.
        IResourceWithParent => null,
        _ => throw new NotSupportedException($"Resource '{resource.Name}' of type {resource.GetType().Name} cannot be run."),
    };
}
