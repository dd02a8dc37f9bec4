using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace VoiceKraliki.IntegrationTests;

/// <summary>
/// The AppHost as a developer runs it: its own process, the console it prints, a second instance on
/// the same state folder, and Ctrl-C (SIGINT) leaving nothing behind.
/// </summary>
[Collection(Support.SystemCollection.Name)]
public sealed partial class AppHostProcessTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("voicekraliki-apphost-").FullName;

    [GeneratedRegex(@"All 9 resources healthy in (?<seconds>[0-9.]+) s")]
    private static partial Regex AllHealthy();

    [GeneratedRegex(@"API key \(admin\):\s+(?<key>\S+)")]
    private static partial Regex ApiKeyLine();

    [Fact]
    public async Task The_apphost_prints_its_startup_time_and_credentials_refuses_a_second_instance_and_ctrl_c_stops_everything()
    {
        var port = FreePort();
        using var apphost = Start("run", "--state-dir", _state, "--gateway-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var console = new Console(apphost);
        try
        {
            var healthy = await console.WaitForAsync(AllHealthy(), TimeSpan.FromMinutes(3));
            var seconds = double.Parse(healthy.Groups["seconds"].Value, System.Globalization.CultureInfo.InvariantCulture);
            output.WriteLine($"AppHost process: all 9 resources healthy in {seconds} s");
            Assert.InRange(seconds, 0.1, 120);

            // The printed credentials work through the printed gateway port.
            var key = ApiKeyLine().Match(console.Text).Groups["key"].Value;
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(20) };
            client.DefaultRequestHeaders.Add("X-Api-Key", key);
            using (var info = await client.GetAsync("/api/alerts/info"))
            {
                Assert.Equal(HttpStatusCode.OK, info.StatusCode);
            }

            // A second AppHost on the same state folder refuses, naming the first.
            using (var second = Start("run", "--state-dir", _state, "--gateway-port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture)))
            {
                var secondConsole = new Console(second);
                Assert.True(second.WaitForExit(60_000), "the second AppHost did not exit");
                await secondConsole.DrainedAsync();
                Assert.NotEqual(0, second.ExitCode);
                Assert.Contains($"pid {apphost.Id}", secondConsole.Text);
                Assert.Contains("already running", secondConsole.Text);
            }

            var started = Descendants(apphost.Id).Union(Mentioning(_state)).ToHashSet();
            Assert.True(started.Count >= 10, $"expected the servers and services as processes, found {started.Count}");

            var stopping = Stopwatch.StartNew();
            SendCtrlC(apphost.Id);
            Assert.True(apphost.WaitForExit(15_000), "the AppHost did not exit within 15 s of Ctrl-C");
            await WaitUntilGoneAsync(started, TimeSpan.FromSeconds(15) - stopping.Elapsed);
            output.WriteLine($"Ctrl-C: everything gone in {stopping.Elapsed.TotalSeconds:F1} s");
            Assert.Equal(0, apphost.ExitCode);
            Assert.Empty(Mentioning(_state));
        }
        finally
        {
            if (!apphost.HasExited)
            {
                apphost.Kill(entireProcessTree: true);
            }

            output.WriteLine(console.Text);
        }
    }

    private static Process Start(params string[] arguments)
    {
        var dll = Path.Combine(RepositoryRoot(), "VoiceKraliki.AppHost", "bin", Configuration(), "net10.0", "VoiceKraliki.AppHost.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot(),
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Hermetic: no connection strings or settings from the environment running the tests.
        foreach (var variable in start.Environment.Keys.Where(k => k.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(variable);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start");
    }

    /// <summary>What a terminal sends on Ctrl-C: SIGINT, with kill(1).</summary>
    private static void SendCtrlC(int pid)
    {
        using var kill = Process.Start("kill", ["-INT", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static string RepositoryRoot() => Metadata("VoiceKraliki.RepositoryRoot");

    private static string Configuration() => Metadata("VoiceKraliki.Configuration");

    private static string Metadata(string key) =>
        typeof(VoiceKraliki.AppHost.AppModel).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Every process whose parent chain leads to <paramref name="root"/>.</summary>
    private static IEnumerable<int> Descendants(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && ParentOf(pid) is { } parent)
            {
                parents[pid] = parent;
            }
        }

        foreach (var pid in parents.Keys)
        {
            for (var current = pid; parents.TryGetValue(current, out var parent); current = parent)
            {
                if (parent == root)
                {
                    yield return pid;
                    break;
                }
            }
        }
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Processes whose command line or environment mention the text (the servers name their data folders).</summary>
    private static IEnumerable<int> Mentioning(string text)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId || IsZombie(pid))
            {
                continue;
            }

            if (Read($"/proc/{pid}/cmdline").Contains(text, StringComparison.Ordinal) || Read($"/proc/{pid}/environ").Contains(text, StringComparison.Ordinal))
            {
                yield return pid;
            }
        }
    }

    private static bool IsZombie(int pid)
    {
        var stat = Read($"/proc/{pid}/stat");
        return stat.Length == 0 || stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static async Task WaitUntilGoneAsync(IReadOnlyCollection<int> pids, TimeSpan within)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var alive = pids.Where(p => !IsZombie(p)).ToList();
            if (alive.Count == 0)
            {
                return;
            }

            if (watch.Elapsed > within)
            {
                Assert.Fail("Still running: " + string.Join("; ", alive.Select(p => $"{p} {Read($"/proc/{p}/cmdline").Replace('\0', ' ')}")));
            }

            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS's temp cleanup.
        }
    }

    /// <summary>Everything a process prints, stdout and stderr, as it arrives.</summary>
    private sealed class Console
    {
        private readonly System.Text.StringBuilder _text = new();
        private readonly Task _stdout;
        private readonly Task _stderr;

        public Console(Process process)
        {
            _stdout = PumpAsync(process.StandardOutput);
            _stderr = PumpAsync(process.StandardError);
        }

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public Task DrainedAsync() => Task.WhenAll(_stdout, _stderr);

        public async Task<Match> WaitForAsync(Regex pattern, TimeSpan within)
        {
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < within)
            {
                var match = pattern.Match(Text);
                if (match.Success)
                {
                    return match;
                }

                if (_stdout.IsCompleted)
                {
                    break;
                }

                await Task.Delay(100);
            }

            throw new Xunit.Sdk.XunitException($"'{pattern}' was not printed within {within.TotalSeconds} s:\n{Text}");
        }

        private async Task PumpAsync(StreamReader reader)
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                lock (_text)
                {
                    _text.AppendLine(line);
                }
            }
        }
    }
}
