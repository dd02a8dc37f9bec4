namespace VoiceKraliki.AppHost.Orchestration;

public enum ResourceState
{
    /// <summary>Declared, not started.</summary>
    NotStarted,

    /// <summary>Waiting for the resources it waits for to be healthy.</summary>
    Waiting,

    /// <summary>Preparing (initdb, config files) or launching its process.</summary>
    Starting,

    /// <summary>The process runs but is not (yet) ready.</summary>
    Running,

    Healthy,

    /// <summary>Was healthy; its health check now fails.</summary>
    Unhealthy,

    /// <summary>Exited unexpectedly; started again after a backoff.</summary>
    Restarting,

    Stopping,

    /// <summary>Stopped on purpose; not restarted.</summary>
    Stopped,

    /// <summary>Cannot be started (e.g. its build output is missing); see the message.</summary>
    Failed,
}

public sealed record ReplicaSnapshot(int Index, ResourceState State, int? ProcessId, int Restarts, string? Url, string? Message);

/// <summary>What a resource is doing now, for the console and for tests.</summary>
public sealed record ResourceSnapshot(string Name, string Kind, ResourceState State, IReadOnlyList<ReplicaSnapshot> Replicas)
{
    public int Restarts => Replicas.Sum(r => r.Restarts);

    public IReadOnlyList<int> ProcessIds => [.. Replicas.Where(r => r.ProcessId is not null).Select(r => r.ProcessId!.Value)];

    public IReadOnlyList<string> Urls => [.. Replicas.Where(r => r.Url is not null).Select(r => r.Url!)];

    public string? Message => Replicas.Select(r => r.Message).FirstOrDefault(m => m is not null);

    /// <summary>One state for all replicas: the worst news first.</summary>
    public static ResourceState Aggregate(IEnumerable<ResourceState> states)
    {
        var all = states.ToArray();
        if (all.Length == 0)
        {
            return ResourceState.NotStarted;
        }

        ResourceState[] precedence =
        [
            ResourceState.Failed, ResourceState.Restarting, ResourceState.Unhealthy, ResourceState.Stopping,
            ResourceState.Starting, ResourceState.Running, ResourceState.Waiting, ResourceState.NotStarted,
        ];
        if (all.All(s => s == all[0]))
        {
            return all[0];
        }

        foreach (var state in precedence)
        {
            if (all.Contains(state))
            {
                return state;
            }
        }

        // A mix of Healthy and Stopped.
        return ResourceState.Unhealthy;
    }
}
