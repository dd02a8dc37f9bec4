using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using VoiceKraliki.AppHost.Credentials;
using VoiceKraliki.AppHost.Infrastructure;
using VoiceKraliki.AppHost.Model;
using VoiceKraliki.AppHost.Orchestration;

namespace VoiceKraliki.AppHost;

internal sealed class DistributedApplicationBuilder : IDistributedApplicationBuilder
{
    private readonly List<IResource> _resources = [];
    private readonly ConfigurationManager _configuration = new();

    public DistributedApplicationBuilder(DistributedApplicationOptions options)
    {
        Options = options;
        RepositoryRoot = options.RepositoryRoot ?? AssemblyMetadata("VoiceKraliki.RepositoryRoot")
            ?? throw new DistributedApplicationException("The repository root is unknown (no VoiceKraliki.RepositoryRoot assembly metadata).");
        BuildConfiguration = options.BuildConfiguration ?? AssemblyMetadata("VoiceKraliki.Configuration") ?? "Debug";
        StatePath = Path.GetFullPath(options.StateDirectory ?? Path.Combine(RepositoryRoot, ".voicekraliki"));

        if (options.UseHostConfiguration)
        {
            var appHostFolder = Path.Combine(RepositoryRoot, "VoiceKraliki.AppHost");
            _configuration
                .AddJsonFile(Path.Combine(appHostFolder, "appsettings.json"), optional: true, reloadOnChange: false)
                .AddJsonFile(Path.Combine(appHostFolder, "appsettings.Development.json"), optional: true, reloadOnChange: false)
                .AddUserSecrets("voicekraliki-apphost", reloadOnChange: false)
                .AddEnvironmentVariables()
                .AddCommandLine([.. options.ConfigurationArgs]);
        }
        else if (options.ConfigurationArgs.Count > 0)
        {
            _configuration.AddCommandLine([.. options.ConfigurationArgs]);
        }

        _configuration.AddInMemoryCollection(options.Configuration);
    }

    public IConfiguration Configuration => _configuration;

    public DistributedApplicationOptions Options { get; }

    public IReadOnlyList<IResource> Resources => _resources;

    public string RepositoryRoot { get; }

    public string StatePath { get; }

    public string BuildConfiguration { get; }

    public IResourceBuilder<T> AddResource<T>(T resource) where T : IResource
    {
        if (_resources.Any(r => string.Equals(r.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new DistributedApplicationException($"A resource named '{resource.Name}' already exists.");
        }

        _resources.Add(resource);
        return new ResourceBuilder<T>(resource, this);
    }

    public DistributedApplication Build() =>
        Task.Run(() => BuildAsync(CancellationToken.None)).GetAwaiter().GetResult();

    /// <summary>
    /// Takes the state folder (one AppHost at a time), cleans up after a crashed predecessor, chooses ports
    /// and credentials. Nothing is started yet.
    /// </summary>
    public async Task<DistributedApplication> BuildAsync(CancellationToken cancellationToken)
    {
        var state = StateDirectory.Acquire(StatePath);
        try
        {
            var time = Options.TimeProvider;
            await PidRegistry.KillLeftoversAsync(state.Combine(PidRegistry.FileName), time, cancellationToken);
            if (Options.Fresh)
            {
                state.Wipe();
            }

            var resources = Options.InfrastructureOnly ? [.. _resources.Where(r => r is not ProjectResource)] : _resources.ToList();
            AssignEndpointsAndSecrets(resources, state);
            var credentials = DevCredentialSetup.Apply(_configuration, state.Combine(DevCredentials.FileName), time);

            var context = new OrchestrationContext(state, _configuration, time, new PidRegistry(state.Combine(PidRegistry.FileName)),
                RepositoryRoot, BuildConfiguration, Options.ErrorLineSink);
            return new DistributedApplication(new Orchestrator(resources, context), context, credentials, Options);
        }
        catch
        {
            state.Dispose();
            if (Options.DeleteStateDirectoryOnDispose)
            {
                Directory.Delete(state.Path, recursive: true);
            }

            throw;
        }
    }

    private void AssignEndpointsAndSecrets(IReadOnlyList<IResource> resources, StateDirectory state)
    {
        var ports = new PortAllocator();
        var secrets = InfrastructureSecrets.LoadOrCreate(state);
        foreach (var resource in resources)
        {
            if (resource is ServerResource server && _configuration.GetConnectionString(server.Name) is { Length: > 0 } external)
            {
                server.ExternalConnectionString = external;
            }

            switch (resource)
            {
                case PostgresServerResource postgres:
                    postgres.Password = secrets.PostgresPassword!;
                    postgres.Port = postgres.IsExternal ? 0 : ports.Allocate();
                    break;
                case RedisResource redis:
                    redis.Port = redis.IsExternal ? 0 : ports.Allocate();
                    break;
                case RabbitMQServerResource rabbit:
                    rabbit.Password = secrets.RabbitMqPassword!;
                    rabbit.NodeId = secrets.RabbitMqNodeId!;
                    if (!rabbit.IsExternal)
                    {
                        rabbit.Port = ports.Allocate();
                        rabbit.DistributionPort = ports.Allocate();
                        rabbit.EpmdPort = ports.Allocate();
                    }

                    break;
                case ProjectResource project:
                    if (_configuration[$"Replicas:{project.Name}"] is { } replicas)
                    {
                        project.Replicas = int.TryParse(replicas, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
                            ? n
                            : throw new DistributedApplicationException($"Replicas:{project.Name} must be a whole number of at least 1, not '{replicas}'.");
                    }

                    project.SetPorts([.. Enumerable.Range(0, project.Replicas)
                        .Select(i => i == 0 && project.FixedPort is int port and > 0 ? ports.Reserve(port) : ports.Allocate())]);
                    break;
            }
        }
    }

    private static string? AssemblyMetadata(string key) =>
        typeof(DistributedApplicationBuilder).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == key)?.Value;
}
