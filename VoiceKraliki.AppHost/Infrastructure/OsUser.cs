namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>Hands a server's folder to the OS user it runs as (only when the AppHost runs as root).</summary>
internal static class OsUser
{
    public static async Task ChownAsync(string user, string path, string logPath, CancellationToken cancellationToken)
    {
        if (!Posix.IsRoot)
        {
            return;
        }

        var spec = new ProcessSpec
        {
            FileName = "chown",
            Arguments = ["-R", $"{user}:{user}", path],
            WorkingDirectory = "/",
            LogPath = logPath,
            Label = "chown",
            Marker = "chown",
        };
        var exitCode = await ChildProcess.RunAsync(spec, null, cancellationToken);
        if (exitCode != 0)
        {
            throw new DistributedApplicationException($"chown -R {user}:{user} {path} failed with exit code {exitCode}; see {logPath}.");
        }
    }
}
