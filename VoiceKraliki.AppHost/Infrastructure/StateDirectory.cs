using System.Globalization;

namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>
/// The folder that holds the servers' data, logs, generated credentials and the pids of what runs.
/// One AppHost at a time: an exclusive lock on <c>apphost.lock</c> is held for the process lifetime.
/// </summary>
public sealed class StateDirectory : IDisposable
{
    public const string LockFileName = "apphost.lock";
    public const string PidFileName = "apphost.pid";

    private readonly FileStream _lock;

    private StateDirectory(string path, FileStream lockStream)
    {
        Path = path;
        _lock = lockStream;
    }

    public string Path { get; }

    public string LogsPath => Combine("logs");

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>Creates the folder if needed and takes the lock, or throws <see cref="AppHostAlreadyRunningException"/>.</summary>
    public static StateDirectory Acquire(string path)
    {
        path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(path);
        // The servers run as their own users and must be able to reach their subfolders.
        UnixFile.SetMode(path, UnixFile.Traversable);
        UnixFile.MakeAncestorsTraversable(path);

        FileStream stream;
        try
        {
            // FileShare.None is an exclusive flock on Linux, released by the kernel if we crash.
            stream = new FileStream(System.IO.Path.Combine(path, LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var holder = ReadHolder(path);
            throw new AppHostAlreadyRunningException(
                $"Another VoiceKraliki AppHost{(holder is null ? "" : $" (pid {holder})")} is already running on the state folder {path}. " +
                "Stop it first (Ctrl-C in its terminal), or use another folder with --state-dir.");
        }

        stream.SetLength(0);
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        stream.Write(System.Text.Encoding.ASCII.GetBytes(pid + "\n"));
        stream.Flush();
        // Other processes cannot read a file we hold an exclusive lock on, so the pid is also written beside it.
        File.WriteAllText(System.IO.Path.Combine(path, PidFileName), pid + "\n");

        var state = new StateDirectory(path, stream);
        Directory.CreateDirectory(state.LogsPath);
        return state;
    }

    /// <summary>Deletes everything but the lock, for <c>--fresh</c>. Call only with nothing running.</summary>
    public void Wipe()
    {
        foreach (var entry in new DirectoryInfo(Path).EnumerateFileSystemInfos())
        {
            if (entry.Name is LockFileName or PidFileName)
            {
                continue;
            }

            if (entry is DirectoryInfo directory)
            {
                directory.Delete(recursive: true);
            }
            else
            {
                entry.Delete();
            }
        }

        Directory.CreateDirectory(LogsPath);
    }

    /// <summary>Creates a subfolder readable and traversable by the server users.</summary>
    public string CreateSubdirectory(params string[] parts)
    {
        var path = Combine(parts);
        Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose()
    {
        try
        {
            File.Delete(System.IO.Path.Combine(Path, PidFileName));
        }
        catch (IOException)
        {
            // Best effort: a stale pid file is only informative.
        }

        _lock.Dispose();
    }

    private static string? ReadHolder(string path)
    {
        try
        {
            var text = File.ReadAllText(System.IO.Path.Combine(path, PidFileName)).Trim();
            return text.Length > 0 ? text : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
