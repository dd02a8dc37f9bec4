using VoiceKraliki.AppHost.Model;

namespace VoiceKraliki.AppHost.Orchestration;

/// <summary>One resource: prepared once per start, then its replicas supervised; reports every change.</summary>
internal sealed class ResourceRunner
{
    private readonly Lock _lock = new();
    private readonly ReplicaRunner[] _replicas;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ResourceState? _phase = ResourceState.NotStarted;
    private string? _phaseMessage;
    private ResourceSnapshot? _lastReported;

    public ResourceRunner(ResourceDriver driver, OrchestrationContext context)
    {
        Driver = driver;
        _replicas = [.. Enumerable.Range(0, driver.ReplicaCount).Select(i => new ReplicaRunner(driver, i, context, OnChanged))];
    }

    public ResourceDriver Driver { get; }

    public string Name => Driver.Resource.Name;

    public IReadOnlyList<IResource> WaitsFor => Driver.Resource.WaitsFor;

    public event Action<ResourceSnapshot>? Changed;

    public ResourceSnapshot Snapshot()
    {
        ResourceState? phase;
        string? phaseMessage;
        lock (_lock)
        {
            phase = _phase;
            phaseMessage = _phaseMessage;
        }

        var replicas = _replicas.Select(r => r.Snapshot()).ToArray();
        if (phase is { } overall)
        {
            replicas = [.. replicas.Select(r => r with { State = overall, Message = phaseMessage ?? r.Message })];
        }

        return new ResourceSnapshot(Name, Driver.Kind, ResourceSnapshot.Aggregate(replicas.Select(r => r.State)), replicas);
    }

    public void MarkWaiting() => SetPhase(ResourceState.Waiting, null);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        SetPhase(ResourceState.Starting, null);
        try
        {
            await Driver.PrepareAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            SetPhase(ResourceState.Failed, e.Message);
            return;
        }

        foreach (var replica in _replicas)
        {
            replica.Start();
        }

        SetPhase(null, null);
    }

    public async Task StopAsync()
    {
        await Task.WhenAll(_replicas.Select(r => r.StopAsync()));
        await Driver.OnStoppedAsync(CancellationToken.None);
        lock (_lock)
        {
            if (_phase is ResourceState.Waiting or ResourceState.Starting or ResourceState.NotStarted)
            {
                _phase = ResourceState.Stopped;
            }
        }

        OnChanged();
    }

    /// <summary>Returns once every replica is healthy; throws if the resource failed.</summary>
    public async Task WaitForHealthyAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                changed = _changed.Task;
            }

            var snapshot = Snapshot();
            if (snapshot.State == ResourceState.Healthy)
            {
                return;
            }

            if (snapshot.State == ResourceState.Failed)
            {
                throw new DistributedApplicationException($"Resource '{Name}' failed: {snapshot.Message}");
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    private void SetPhase(ResourceState? phase, string? message)
    {
        lock (_lock)
        {
            _phase = phase;
            _phaseMessage = message;
        }

        OnChanged();
    }

    private void OnChanged()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
        var snapshot = Snapshot();
        lock (_lock)
        {
            if (_lastReported is not null && SameState(_lastReported, snapshot))
            {
                return;
            }

            _lastReported = snapshot;
        }

        Changed?.Invoke(snapshot);
    }

    private static bool SameState(ResourceSnapshot a, ResourceSnapshot b) =>
        a.State == b.State && a.Replicas.SequenceEqual(b.Replicas);
}
