namespace VoiceKraliki.AppHost.Model;

/// <summary>One of our services, started from its build output as one process per replica.</summary>
public sealed class ProjectResource(string name, string projectName) : Resource(name)
{
    private readonly List<Action<EnvironmentContext>> _environment = [];
    private readonly List<ProxyRoute> _routes = [];
    private readonly List<ProxyClusterSetting> _clusterSettings = [];
    private int[] _ports = [];

    /// <summary>The project (and assembly) name, e.g. <c>VoiceKraliki.CallState</c>.</summary>
    public string ProjectName { get; } = projectName;

    public int Replicas { get; internal set; } = 1;

    /// <summary>A fixed port for replica 0 (the gateway's public port); null means any free port.</summary>
    public int? FixedPort { get; internal set; }

    public IReadOnlyList<Action<EnvironmentContext>> EnvironmentCallbacks => _environment;

    /// <summary>Reverse-proxy routes this resource serves (only the gateway has any).</summary>
    public IReadOnlyList<ProxyRoute> ProxyRoutes => _routes;

    public IReadOnlyList<ProxyClusterSetting> ProxyClusterSettings => _clusterSettings;

    /// <summary>The port of each replica, chosen when the application is built.</summary>
    public IReadOnlyList<int> Ports => _ports;

    internal void SetPorts(int[] ports) => _ports = ports;

    internal void AddEnvironment(Action<EnvironmentContext> callback) => _environment.Add(callback);

    internal void AddRoute(ProxyRoute route) => _routes.Add(route);

    internal void AddClusterSetting(ProxyClusterSetting setting) => _clusterSettings.Add(setting);

    public Uri GetEndpoint(int replica = 0)
    {
        if (replica < 0 || replica >= _ports.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(replica), replica, $"'{Name}' has {_ports.Length} replica(s).");
        }

        return new Uri($"http://127.0.0.1:{_ports[replica]}");
    }
}

/// <summary>A YARP route: requests matching <see cref="Path"/> go to <see cref="Target"/>'s replicas.</summary>
public sealed record ProxyRoute(string RouteId, ProjectResource Target, string Path);

/// <summary>A cluster setting beyond the defaults, e.g. <c>HttpRequest:ActivityTimeout</c>.</summary>
public sealed record ProxyClusterSetting(ProjectResource Target, string Key, string Value);

/// <summary>What an environment callback sees while one replica's environment is built.</summary>
public sealed class EnvironmentContext(ProjectResource resource, int replica, IDictionary<string, string> variables)
{
    public ProjectResource Resource { get; } = resource;

    public int Replica { get; } = replica;

    public IDictionary<string, string> Variables { get; } = variables;
}
