using System.Text;

namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>Reads what Linux says about a process in <c>/proc</c>.</summary>
internal static class ProcFs
{
    public static bool Exists(int pid) => Directory.Exists($"/proc/{pid}");

    /// <summary>The start time in clock ticks since boot (field 22 of <c>stat</c>): with the pid, it names one process for good.</summary>
    public static long? StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may contain spaces and parentheses: count from its closing one.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // fields[0] is field 3 (state), so field 22 is fields[19].
            return long.Parse(fields[19], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>True while the process exists and has not exited (zombies count as gone).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[stat.LastIndexOf(')') + 2];
            return state is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            return false;
        }
    }

    /// <summary>The executable's name (<c>comm</c>), e.g. <c>epmd</c> or <c>beam.smp</c>.</summary>
    public static string Name(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    public static string CommandLine(int pid) => ReadNulSeparated($"/proc/{pid}/cmdline", " ");

    public static IReadOnlyList<string> Environment(int pid) =>
        ReadNulSeparated($"/proc/{pid}/environ", "\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public static IEnumerable<int> AllProcessIds()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid))
            {
                yield return pid;
            }
        }
    }

    private static string ReadNulSeparated(string path, string separator)
    {
        try
        {
            var bytes = File.ReadAllBytes(path);
            return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Replace("\0", separator, StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}
