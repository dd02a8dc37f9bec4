using System.Diagnostics;
using System.Text.Json;
using VoiceKraliki.AppHost.Infrastructure;

namespace VoiceKraliki.AppHost.Tests.Infrastructure;

public sealed class PidRegistryTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("voicekraliki-pids-").FullName;

    [Fact]
    public async Task Leftovers_of_a_crashed_apphost_are_killed_when_they_are_still_ours()
    {
        using var leftover = Process.Start("sleep", "300");
        using var stranger = Process.Start("sleep", "301");
        var path = Path.Combine(_folder, PidRegistry.FileName);
        var registry = new PidRegistry(path);
        registry.Add(new PidRecord("ours", leftover.Id, ProcFsStartTime(leftover.Id), "300", 15));
        // Same pid, but a command line we did not start: a reused pid is left alone.
        registry.Add(new PidRecord("reused", stranger.Id, ProcFsStartTime(stranger.Id), "postgres -D", 15));

        var killed = await PidRegistry.KillLeftoversAsync(path, TimeProvider.System, CancellationToken.None);

        Assert.Equal("ours", Assert.Single(killed).Resource);
        Assert.True(leftover.WaitForExit(5000));
        Assert.False(stranger.HasExited);
        Assert.False(File.Exists(path));
        stranger.Kill();
    }

    [Fact]
    public void The_registry_file_lists_what_runs()
    {
        var path = Path.Combine(_folder, PidRegistry.FileName);
        var registry = new PidRegistry(path);
        registry.Add(new PidRecord("redis", 4242, 1, "127.0.0.1:1234", 15));
        registry.Add(new PidRecord("postgres", 4343, 2, "/data", 2));
        registry.Remove(4242);

        var records = JsonSerializer.Deserialize<PidRecord[]>(File.ReadAllText(path))!;
        Assert.Equal("postgres", Assert.Single(records).Resource);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static long? ProcFsStartTime(int pid) => ProcFs.StartTime(pid);
}
