namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>File modes, which only mean something on Linux (the only OS the AppHost runs servers on).</summary>
internal static class UnixFile
{
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public const UnixFileMode Traversable =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    public static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    /// <summary>Adds execute-for-others to every ancestor that lacks it, so server users can reach the folder.</summary>
    public static void MakeAncestorsTraversable(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        for (var parent = Directory.GetParent(path); parent is not null; parent = parent.Parent)
        {
            try
            {
                var mode = File.GetUnixFileMode(parent.FullName);
                if ((mode & UnixFileMode.OtherExecute) == 0)
                {
                    File.SetUnixFileMode(parent.FullName, mode | UnixFileMode.OtherExecute);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not ours to change; the server then fails to start with a permission error in its log.
            }
        }
    }
}
