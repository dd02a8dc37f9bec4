using System.Text;

namespace VoiceKraliki.AppHost.Tests.Support;

/// <summary>Finds processes on this machine that mention a text in their command line or environment.</summary>
internal static class ProcessScanner
{
    public static IReadOnlyList<string> Mentioning(string text)
    {
        var found = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            var commandLine = Read(Path.Combine(directory, "cmdline"));
            if (commandLine.Contains(text, StringComparison.Ordinal) || Read(Path.Combine(directory, "environ")).Contains(text, StringComparison.Ordinal))
            {
                found.Add($"{pid} {Read(Path.Combine(directory, "comm")).Trim()} {commandLine}");
            }
        }

        return found;
    }

    private static string Read(string path)
    {
        try
        {
            return Encoding.UTF8.GetString(File.ReadAllBytes(path)).Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}
