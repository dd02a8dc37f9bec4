using VoiceKraliki.AppHost.Infrastructure;

namespace VoiceKraliki.AppHost.Orchestration;

/// <summary>
/// Keeps one process of a resource running: starts it, polls its health every second, and restarts it
/// with backoff when it exits on its own. A stop asked for is final until the next start.
/// </summary>
internal sealed class ReplicaRunner(ResourceDriver driver, int index, OrchestrationContext context, Action changed)
{
    private static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ReadyInterval = TimeSpan.FromMilliseconds(250);

    private readonly Lock _lock = new();
    private ResourceState _state = ResourceState.NotStarted;
    private string? _message;
    private int _restarts;
    private ChildProcess? _process;
    private CancellationTokenSource? _run;
    private Task _loop = Task.CompletedTask;
    private DateTimeOffset? _healthySince;

    public ReplicaSnapshot Snapshot()
    {
        lock (_lock)
        {
            var process = _process;
            return new ReplicaSnapshot(index, _state, process is { HasExited: false } ? process.Id : null, _restarts,
                driver.GetUrl(index), _message);
        }
    }

    public void Start()
    {
        lock (_lock)
        {
            if (_run is not null)
            {
                return;
            }

            _run = new CancellationTokenSource();
            // Silently: the resource reports the change once all replicas are launched.
            _state = ResourceState.Starting;
            _message = null;
            var token = _run.Token;
            _loop = Task.Run(() => SuperviseAsync(token), CancellationToken.None);
        }
    }

    public async Task StopAsync()
    {
        CancellationTokenSource? run;
        lock (_lock)
        {
            run = _run;
            _run = null;
        }

        if (run is null)
        {
            return;
        }

        SetState(ResourceState.Stopping, null);
        await run.CancelAsync();
        await _loop;
        run.Dispose();

        var process = _process;
        if (process is not null)
        {
            await process.StopAsync(driver.StopSignal, driver.StopGrace, context.Time);
            context.Pids.Remove(process.Id);
            lock (_lock)
            {
                _process = null;
            }

            await process.DisposeAsync();
        }

        SetState(ResourceState.Stopped, null);
    }

    private async Task SuperviseAsync(CancellationToken cancellationToken)
    {
        var policy = new RestartPolicy();
        while (!cancellationToken.IsCancellationRequested)
        {
            if (!driver.HasProcess)
            {
                SetState(ResourceState.Starting, null);
                await MonitorAsync(null, cancellationToken);
                return;
            }

            ChildProcess process;
            try
            {
                SetState(ResourceState.Starting, null);
                var spec = driver.CreateProcessSpec(index);
                process = ChildProcess.Start(spec, context.OnErrorLine);
                lock (_lock)
                {
                    _process = process;
                }

                context.Pids.Add(new PidRecord(driver.Label(index), process.Id, process.StartTime, spec.Marker, driver.StopSignal,
                    driver is ProjectDriver ? 0 : 1));
            }
            catch (Exception e)
            {
                SetState(ResourceState.Failed, e.Message);
                return;
            }

            SetState(ResourceState.Running, null);
            using (var monitor = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var health = MonitorAsync(process, monitor.Token);
                try
                {
                    await process.WaitForExitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // A stop was asked for: StopAsync stops the process gracefully.
                    await health;
                    return;
                }

                await monitor.CancelAsync();
                await health;
            }

            var exitCode = process.ExitCode;
            context.Pids.Remove(process.Id);
            lock (_lock)
            {
                _process = null;
            }

            await process.DisposeAsync();

            var healthyFor = _healthySince is { } since ? context.Time.GetUtcNow() - since : TimeSpan.Zero;
            var delay = policy.NextDelay(healthyFor);
            Interlocked.Increment(ref _restarts);
            SetState(ResourceState.Restarting, $"exited with code {exitCode}; restarting in {delay.TotalSeconds:0} s");
            try
            {
                await Task.Delay(delay, context.Time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Polls health until cancelled or the process exits; runs the driver's ready step once per process.</summary>
    private async Task MonitorAsync(ChildProcess? process, CancellationToken cancellationToken)
    {
        var ready = false;
        var everHealthy = false;
        _healthySince = null;
        while (!cancellationToken.IsCancellationRequested && process is not { HasExited: true })
        {
            bool healthy;
            string? message = null;
            try
            {
                healthy = await driver.ProbeAsync(index, ready, cancellationToken);
                if (healthy && !ready)
                {
                    await driver.OnReadyAsync(index, cancellationToken);
                    ready = true;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                healthy = false;
                message = e.Message;
            }

            if (cancellationToken.IsCancellationRequested || process is { HasExited: true })
            {
                return;
            }

            if (healthy)
            {
                everHealthy = true;
                _healthySince ??= context.Time.GetUtcNow();
                SetState(ResourceState.Healthy, null);
            }
            else
            {
                _healthySince = null;
                SetState(everHealthy ? ResourceState.Unhealthy : process is null ? ResourceState.Starting : ResourceState.Running, message);
            }

            try
            {
                await Task.Delay(everHealthy ? HealthInterval : ReadyInterval, context.Time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void SetState(ResourceState state, string? message)
    {
        lock (_lock)
        {
            if (_state == state && _message == message)
            {
                return;
            }

            _state = state;
            _message = message;
        }

        changed();
    }
}
