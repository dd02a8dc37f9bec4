using System.Diagnostics;

namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>
/// A process the AppHost started, in its own session (so a terminal's Ctrl-C reaches only the AppHost,
/// which then stops everything in order), with its output appended to a log file.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    /// <summary>Inherited variables the AppHost decides itself; a service must not see the AppHost's own.</summary>
    private static readonly string[] ManagedPrefixes =
    [
        "ConnectionStrings__", "services__", "Telephony__", "WebhookSecurity__", "Auth__", "ReverseProxy__",
        "Replicas__", "Webhooks__", "MediaStreams__", "OTEL_", "ASPNETCORE_", "DOTNET_ENVIRONMENT", "DOTNET_LAUNCH_PROFILE", "Orchestration__",
    ];

    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();
    private readonly Task _pump;
    private bool _disposed;

    private ChildProcess(Process process, StreamWriter log, Action<string, string>? onErrorLine, string label, long? startTime)
    {
        _process = process;
        Id = process.Id;
        _log = log;
        StartTime = startTime;
        _pump = Task.WhenAll(
            PumpAsync(process.StandardOutput, onErrorLine, label),
            PumpAsync(process.StandardError, onErrorLine, label));
    }

    public int Id { get; }

    /// <summary>From /proc, to tell this process from a later one with the same pid.</summary>
    public long? StartTime { get; }

    /// <summary>True once the process ended, or once this object was disposed (snapshots may race a stop).</summary>
    public bool HasExited
    {
        get
        {
            if (Volatile.Read(ref _disposed))
            {
                return true;
            }

            try
            {
                return _process.HasExited;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    public int? ExitCode
    {
        get
        {
            try
            {
                return !Volatile.Read(ref _disposed) && _process.HasExited ? _process.ExitCode : null;
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }
    }

    public static ChildProcess Start(ProcessSpec spec, Action<string, string>? onErrorLine)
    {
        var info = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = spec.WorkingDirectory,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        if (spec.User is not null && Posix.IsRoot)
        {
            // setpriv execs, so the pid we hold is the server's own.
            foreach (var argument in new[] { $"--reuid={spec.User}", $"--regid={spec.User}", "--init-groups", "--inh-caps=-all", "--" })
            {
                info.ArgumentList.Add(argument);
            }

            info.ArgumentList.Insert(0, "setpriv");
        }

        info.ArgumentList.Add(spec.FileName);
        foreach (var argument in spec.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var key in info.Environment.Keys.ToArray())
        {
            if (ManagedPrefixes.Any(p => key.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            {
                info.Environment.Remove(key);
            }
        }

        foreach (var (key, value) in spec.Environment)
        {
            info.Environment[key] = value;
        }

        var log = new StreamWriter(new FileStream(spec.LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            AutoFlush = true,
        };
        log.WriteLine($"===== {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss.fff zzz} starting {spec.FileName} {string.Join(' ', spec.Arguments)}");

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("Process.Start returned null.");
        }
        catch
        {
            log.Dispose();
            throw;
        }

        // Nobody types into our servers: they see end of input, not our terminal.
        process.StandardInput.Close();
        return new ChildProcess(process, log, onErrorLine, spec.Label, ProcFs.StartTime(process.Id));
    }

    /// <summary>Runs a short command (initdb, chown) to completion and returns its exit code.</summary>
    public static async Task<int> RunAsync(ProcessSpec spec, Action<string, string>? onErrorLine, CancellationToken cancellationToken)
    {
        await using var child = Start(spec, onErrorLine);
        try
        {
            await child.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            child.Signal(Posix.SIGKILL);
            throw;
        }

        return child.ExitCode ?? -1;
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public bool Signal(int signal) => !HasExited && Posix.Signal(Id, signal);

    /// <summary>Sends <paramref name="signal"/>, waits up to <paramref name="grace"/>, then kills.</summary>
    public async Task StopAsync(int signal, TimeSpan grace, TimeProvider time)
    {
        if (_process.HasExited)
        {
            return;
        }

        Signal(signal);
        using var timeout = new CancellationTokenSource(grace, time);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            Signal(Posix.SIGKILL);
            await _process.WaitForExitAsync(CancellationToken.None);
        }
    }

    public void WriteLog(string line)
    {
        lock (_logLock)
        {
            _log.WriteLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // A grandchild that kept our pipe open (a daemon) must not hold up the AppHost.
        await Task.WhenAny(_pump, Task.Delay(TimeSpan.FromSeconds(1)));
        lock (_logLock)
        {
            _log.Dispose();
        }

        Volatile.Write(ref _disposed, true);
        _process.Dispose();
    }

    private async Task PumpAsync(StreamReader reader, Action<string, string>? onErrorLine, string label)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                WriteLog(line);
                if (onErrorLine is not null && LogLineClassifier.IsError(line))
                {
                    onErrorLine(label, line);
                }
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // The pipe closed with the process.
        }
    }
}
