namespace VoiceKraliki.AppHost.Model;

/// <summary>Something the AppHost runs or points at: a server, a database on it, or a service.</summary>
public interface IResource
{
    string Name { get; }
}

/// <summary>A resource that other resources reach through <c>ConnectionStrings__&lt;name&gt;</c>.</summary>
public interface IResourceWithConnectionString : IResource
{
    /// <summary>The connection string, known once the application is built (ports are chosen then).</summary>
    string GetConnectionString();
}

/// <summary>A resource that is a child of another one (a database on a server) and is ready when its parent is.</summary>
public interface IResourceWithParent : IResource
{
    IResource Parent { get; }
}

public abstract class Resource(string name) : IResource
{
    private readonly List<IResource> _references = [];
    private readonly List<IResource> _waitsFor = [];

    public string Name { get; } = name;

    /// <summary>Resources whose address this one is given.</summary>
    public IReadOnlyList<IResource> References => _references;

    /// <summary>Resources that must be healthy before this one starts.</summary>
    public IReadOnlyList<IResource> WaitsFor => _waitsFor;

    internal void AddReference(IResource resource)
    {
        if (!_references.Contains(resource))
        {
            _references.Add(resource);
        }
    }

    internal void AddWaitFor(IResource resource)
    {
        if (!_waitsFor.Contains(resource))
        {
            _waitsFor.Add(resource);
        }
    }

    public override string ToString() => Name;
}
