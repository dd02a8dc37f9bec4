using Microsoft.Extensions.Configuration;
using VoiceKraliki.AppHost.Infrastructure;

namespace VoiceKraliki.AppHost.Orchestration;

/// <summary>What every driver and runner shares for one application run.</summary>
internal sealed class OrchestrationContext(
    StateDirectory state,
    IConfiguration configuration,
    TimeProvider time,
    PidRegistry pids,
    string repositoryRoot,
    string buildConfiguration,
    Action<string, string>? onErrorLine) : IDisposable
{
    public StateDirectory State { get; } = state;

    public IConfiguration Configuration { get; } = configuration;

    public TimeProvider Time { get; } = time;

    public PidRegistry Pids { get; } = pids;

    public string RepositoryRoot { get; } = repositoryRoot;

    public string BuildConfiguration { get; } = buildConfiguration;

    /// <summary>Called with (label, line) for every log line of a child that looks like an error.</summary>
    public Action<string, string> OnErrorLine => ReportErrorLine;

    /// <summary>The console subscribes here; the options' sink (tests) is called too.</summary>
    public event Action<string, string>? ErrorLine;

    private void ReportErrorLine(string label, string line)
    {
        onErrorLine?.Invoke(label, line);
        ErrorLine?.Invoke(label, line);
    }

    /// <summary>For health checks only: short timeout, no proxy, no pooling surprises across restarts.</summary>
    public HttpClient HealthClient { get; } = new(new SocketsHttpHandler
    {
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(1),
    })
    {
        Timeout = TimeSpan.FromSeconds(2),
    };

    public void Dispose() => HealthClient.Dispose();
}
