using System.Text.Json;

namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>A process we started, recorded so that the next AppHost can clean up after a crash.</summary>
/// <param name="StopOrder">Lower stops first: services (0), then servers (1), then their helpers (2, e.g. epmd,
/// which a broker still shutting down would otherwise start again).</param>
internal sealed record PidRecord(string Resource, int Pid, long? StartTime, string Marker, int StopSignal, int StopOrder = 0);

/// <summary>
/// <c>pids.json</c> in the state folder: every live child. A process is only ever killed from it when
/// its pid, start time and command line all still match, so a reused pid is left alone.
/// </summary>
internal sealed class PidRegistry(string path)
{
    public const string FileName = "pids.json";

    private readonly Dictionary<(int Pid, long? StartTime), PidRecord> _records = [];
    private readonly Lock _lock = new();

    public void Add(PidRecord record)
    {
        lock (_lock)
        {
            _records[(record.Pid, record.StartTime)] = record;
            Save();
        }
    }

    public void Remove(int pid)
    {
        lock (_lock)
        {
            foreach (var key in _records.Keys.Where(k => k.Pid == pid).ToArray())
            {
                _records.Remove(key);
            }

            Save();
        }
    }

    /// <summary>Stops what a previous AppHost left running on this state folder, and returns what was found.</summary>
    public static async Task<IReadOnlyList<PidRecord>> KillLeftoversAsync(string path, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        PidRecord[] records;
        try
        {
            records = JsonSerializer.Deserialize<PidRecord[]>(File.ReadAllText(path)) ?? [];
        }
        catch (JsonException)
        {
            records = [];
        }

        var alive = records.Where(IsStillOurs).ToArray();
        foreach (var group in alive.GroupBy(r => r.StopOrder).OrderBy(g => g.Key))
        {
            foreach (var record in group)
            {
                Posix.Signal(record.Pid, record.StopSignal);
            }

            var deadline = time.GetUtcNow() + TimeSpan.FromSeconds(10);
            while (group.Any(r => ProcFs.IsAlive(r.Pid)) && time.GetUtcNow() < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
            }

            foreach (var record in group.Where(r => ProcFs.IsAlive(r.Pid)))
            {
                Posix.Signal(record.Pid, Posix.SIGKILL);
            }
        }

        File.Delete(path);
        return alive;
    }

    internal static bool IsStillOurs(PidRecord record) =>
        ProcFs.IsAlive(record.Pid)
        && (record.StartTime is null || ProcFs.StartTime(record.Pid) == record.StartTime)
        && ProcFs.CommandLine(record.Pid).Contains(record.Marker, StringComparison.Ordinal);

    private void Save()
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(_records.Values.ToArray()));
        File.Move(temporary, path, overwrite: true);
    }
}
