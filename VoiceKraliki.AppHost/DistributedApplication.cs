using System.Runtime.InteropServices;
using Microsoft.Extensions.Configuration;
using VoiceKraliki.AppHost.Credentials;
using VoiceKraliki.AppHost.Dashboard;
using VoiceKraliki.AppHost.Model;
using VoiceKraliki.AppHost.Orchestration;

namespace VoiceKraliki.AppHost;

/// <summary>The built application: runs it from the console, or lets a test start, inspect and stop it.</summary>
public sealed class DistributedApplication : IAsyncDisposable
{
    private readonly Orchestrator _orchestrator;
    private readonly OrchestrationContext _context;
    private readonly DistributedApplicationOptions _options;
    private readonly SemaphoreSlim _stopLock = new(1, 1);
    private bool _stopped;
    private bool _disposed;

    internal DistributedApplication(Orchestrator orchestrator, OrchestrationContext context, DevCredentialSet credentials,
        DistributedApplicationOptions options)
    {
        _orchestrator = orchestrator;
        _context = context;
        _options = options;
        DevCredentials = credentials;
        _orchestrator.StateChanged += snapshot => ResourceStateChanged?.Invoke(snapshot);
    }

    public static IDistributedApplicationBuilder CreateBuilder(string[] args) =>
        new DistributedApplicationBuilder(DistributedApplicationOptions.FromArgs(args));

    public static IDistributedApplicationBuilder CreateBuilder(DistributedApplicationOptions options) =>
        new DistributedApplicationBuilder(options);

    /// <summary>Each process's log lines that look like errors, with the process's label (<c>webhook-ingress-1</c>).</summary>
    public event Action<string, string>? ErrorLine
    {
        add => _context.ErrorLine += value;
        remove => _context.ErrorLine -= value;
    }

    /// <summary>Every change of any resource's state.</summary>
    public event Action<ResourceSnapshot>? ResourceStateChanged;

    public string StateDirectory => _context.State.Path;

    public IConfiguration Configuration => _context.Configuration;

    /// <summary>The admin API key generated for local use, or null when <c>Auth:ApiKeys</c> is configured.</summary>
    public string? DevApiKey => DevCredentials.ApiKey;

    /// <summary>An operator JWT signed with the generated key, or null when <c>Auth:Jwt</c> is configured.</summary>
    public string? DevOperatorJwt => DevCredentials.OperatorJwt;

    internal DevCredentialSet DevCredentials { get; }

    /// <summary>From <see cref="StartAsync"/> to every resource healthy, once reached.</summary>
    public TimeSpan? StartupDuration { get; private set; }

    /// <summary>The gateway's address, or null when only the infrastructure runs.</summary>
    public Uri? GatewayEndpoint =>
        _orchestrator.Runners.Any(r => r.Name == AppModel.GatewayName) ? GetEndpoint(AppModel.GatewayName) : null;

    public IReadOnlyList<ResourceSnapshot> GetResources() => [.. _orchestrator.Runners.Select(r => r.Snapshot())];

    /// <summary>Starts everything in dependency order; returns when every resource is healthy.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var started = _context.Time.GetTimestamp();
        await _orchestrator.StartAsync(cancellationToken);
        StartupDuration = _context.Time.GetElapsedTime(started);
    }

    /// <summary>Stops services, then servers, gracefully (forcefully after a grace period). Safe to call twice.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _stopLock.WaitAsync(cancellationToken);
        try
        {
            if (!_stopped)
            {
                await _orchestrator.StopAsync();
                _stopped = true;
            }
        }
        finally
        {
            _stopLock.Release();
        }
    }

    /// <summary>The <c>ConnectionStrings__&lt;name&gt;</c> a service gets, e.g. <c>postgres-call-state</c>, <c>redis</c>, <c>messaging</c>.</summary>
    public string GetConnectionString(string name) =>
        _orchestrator.GetResource(name) is IResourceWithConnectionString resource
            ? resource.GetConnectionString()
            : throw new ArgumentException($"Resource '{name}' has no connection string.", nameof(name));

    /// <summary>The base address of a service replica (<c>http://127.0.0.1:port</c>).</summary>
    public Uri GetEndpoint(string name, int replica = 0) =>
        _orchestrator.GetResource(name) switch
        {
            ProjectResource project => project.GetEndpoint(replica),
            ServerResource { IsExternal: false } server => new Uri($"tcp://127.0.0.1:{server.Port}"),
            _ => throw new ArgumentException($"Resource '{name}' has no local endpoint.", nameof(name)),
        };

    public ResourceSnapshot GetResource(string name) => _orchestrator.Get(name).Snapshot();

    /// <summary>Stops one resource on purpose; it is not restarted until <see cref="StartResourceAsync"/>.</summary>
    public Task StopResourceAsync(string name, CancellationToken cancellationToken = default) =>
        _orchestrator.Get(name).StopAsync().WaitAsync(cancellationToken);

    /// <summary>Starts a stopped resource again (same ports, same data); returns when it is healthy.</summary>
    public Task StartResourceAsync(string name, CancellationToken cancellationToken = default) =>
        _orchestrator.StartResourceAsync(name, cancellationToken);

    public async Task WaitForResourceHealthyAsync(string name, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await _orchestrator.Get(name).WaitForHealthyAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var snapshot = GetResource(name);
            throw new TimeoutException($"Resource '{name}' is not healthy after {timeout ?? TimeSpan.FromMinutes(2)}: {snapshot.State} {snapshot.Message}");
        }
    }

    /// <summary>
    /// The console AppHost: shows the status table, starts everything, and on Ctrl-C or SIGTERM stops
    /// everything in order. Returns the process exit code.
    /// </summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void OnSignal(PosixSignalContext signal)
        {
            signal.Cancel = true;
            shutdown.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnSignal);

        await using var dashboard = new ConsoleDashboard(this, _context.Time);
        dashboard.PrintBanner();
        dashboard.Start();

        var starting = StartAndReportAsync(dashboard, shutdown.Token);
        try
        {
            await Task.Delay(Timeout.Infinite, shutdown.Token);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C, SIGTERM, or the caller's token.
        }

        dashboard.WriteLine("Stopping…");
        await starting;
        var stopping = _context.Time.GetTimestamp();
        await StopAsync(CancellationToken.None);
        dashboard.WriteLine($"Stopped everything in {_context.Time.GetElapsedTime(stopping).TotalSeconds:0.0} s.");
        return 0;
    }

    private async Task StartAndReportAsync(ConsoleDashboard dashboard, CancellationToken cancellationToken)
    {
        try
        {
            await StartAsync(cancellationToken);
            dashboard.ReportAllHealthy(_orchestrator.Runners.Count, StartupDuration!.Value);
        }
        catch (OperationCanceledException)
        {
            // Stopped before everything was up.
        }
        catch (DistributedApplicationException e)
        {
            dashboard.WriteLine($"error: {e.Message} (the rest keeps running; Ctrl-C stops everything)");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await StopAsync(CancellationToken.None);
        var path = _context.State.Path;
        _context.State.Dispose();
        _context.Dispose();
        _stopLock.Dispose();
        if (_options.DeleteStateDirectoryOnDispose && Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}
