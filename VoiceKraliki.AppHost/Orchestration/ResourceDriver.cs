using VoiceKraliki.AppHost.Infrastructure;
using VoiceKraliki.AppHost.Model;

namespace VoiceKraliki.AppHost.Orchestration;

/// <summary>How one kind of resource is prepared, started, probed and stopped.</summary>
internal abstract class ResourceDriver(Resource resource, OrchestrationContext context)
{
    public Resource Resource { get; } = resource;

    protected OrchestrationContext Context { get; } = context;

    public abstract string Kind { get; }

    public virtual int ReplicaCount => 1;

    /// <summary>False for a server given by connection string: it is only probed.</summary>
    public virtual bool HasProcess => true;

    public virtual int StopSignal => Posix.SIGTERM;

    public virtual TimeSpan StopGrace => TimeSpan.FromSeconds(5);

    /// <summary>Runs once before the replicas start (folders, config files, initdb).</summary>
    public virtual Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public abstract ProcessSpec CreateProcessSpec(int replica);

    /// <summary>True when the replica is ready (the first time) or healthy (every later poll).</summary>
    public abstract Task<bool> ProbeAsync(int replica, bool wasReady, CancellationToken cancellationToken);

    /// <summary>Runs after each process start once its probe first succeeds (create databases, find helpers).</summary>
    public virtual Task OnReadyAsync(int replica, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs after all replicas stopped (clean up helper processes).</summary>
    public virtual Task OnStoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public virtual string? GetUrl(int replica) => null;

    public string Label(int replica) => ReplicaCount > 1 ? $"{Resource.Name}-{replica}" : Resource.Name;

    public string LogPath(int replica) => Path.Combine(Context.State.LogsPath, Label(replica) + ".log");
}
