using System.Diagnostics;
using Npgsql;
using VoiceKraliki.AppHost.Model;
using VoiceKraliki.AppHost.Orchestration;

namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>PostgreSQL from the machine's own binaries: <c>initdb</c> once, then <c>postgres</c> in the foreground as user postgres.</summary>
internal sealed class PostgresDriver(PostgresServerResource server, OrchestrationContext context) : ResourceDriver(server, context)
{
    private const string OsUserName = "postgres";

    private string Root => Context.State.Combine("postgres");

    private string DataDirectory => Path.Combine(Root, "data");

    private string SocketDirectory => Path.Combine(Root, "run");

    public override string Kind => server.IsExternal ? "postgres (external)" : "postgres";

    public override bool HasProcess => !server.IsExternal;

    /// <summary>SIGINT is Postgres's fast shutdown: roll back open transactions, checkpoint, exit.</summary>
    public override int StopSignal => Posix.SIGINT;

    public override TimeSpan StopGrace => TimeSpan.FromSeconds(8);

    public override string? GetUrl(int replica) =>
        server.IsExternal ? "(external)" : $"postgres://127.0.0.1:{server.Port}";

    public override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (server.IsExternal)
        {
            return;
        }

        Directory.CreateDirectory(Root);
        Directory.CreateDirectory(SocketDirectory);
        await OsUser.ChownAsync(OsUserName, Root, LogPath(0), cancellationToken);

        if (File.Exists(Path.Combine(DataDirectory, "PG_VERSION")))
        {
            return;
        }

        // A half-made data folder (initdb interrupted) cannot be reused.
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }

        var passwordFile = Path.Combine(Root, ".initdb-password");
        await File.WriteAllTextAsync(passwordFile, server.Password + "\n", cancellationToken);
        UnixFile.SetMode(passwordFile, UnixFile.OwnerOnly);
        await OsUser.ChownAsync(OsUserName, passwordFile, LogPath(0), cancellationToken);
        try
        {
            var exitCode = await ChildProcess.RunAsync(new ProcessSpec
            {
                FileName = Path.Combine(BinDirectory(), "initdb"),
                Arguments =
                [
                    "-D", DataDirectory, "-U", server.UserName, "--auth-local=trust", "--auth-host=scram-sha-256",
                    $"--pwfile={passwordFile}", "--encoding=UTF8", "--locale=C.UTF-8",
                ],
                WorkingDirectory = Root,
                User = OsUserName,
                LogPath = LogPath(0),
                Label = server.Name,
                Marker = DataDirectory,
            }, Context.OnErrorLine, cancellationToken);
            if (exitCode != 0)
            {
                throw new DistributedApplicationException($"initdb failed with exit code {exitCode}; see {LogPath(0)}.");
            }
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    public override ProcessSpec CreateProcessSpec(int replica) => new()
    {
        FileName = Path.Combine(BinDirectory(), "postgres"),
        Arguments =
        [
            "-D", DataDirectory, "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-k", SocketDirectory,
        ],
        WorkingDirectory = Root,
        User = OsUserName,
        LogPath = LogPath(replica),
        Label = server.Name,
        Marker = DataDirectory,
    };

    public override Task<bool> ProbeAsync(int replica, bool wasReady, CancellationToken cancellationToken) =>
        Probes.PostgresAsync(server.GetConnectionString(), cancellationToken);

    /// <summary>Creates the databases the services use, if missing.</summary>
    public override async Task OnReadyAsync(int replica, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(server.GetConnectionString()) { Pooling = false, Timeout = 5 };
        if (server.IsExternal && string.IsNullOrEmpty(builder.Database))
        {
            builder.Database = "postgres";
        }

        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var database in server.Databases)
        {
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
            exists.Parameters.AddWithValue("name", database.DatabaseName);
            if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
            {
                continue;
            }

            var quoted = "\"" + database.DatabaseName.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
            await using var create = new NpgsqlCommand($"CREATE DATABASE {quoted}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static string? _binDirectory;

    /// <summary><c>pg_config --bindir</c>, else the newest <c>/usr/lib/postgresql/*/bin</c>.</summary>
    internal static string BinDirectory()
    {
        if (_binDirectory is not null)
        {
            return _binDirectory;
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo("pg_config", "--bindir") { RedirectStandardOutput = true, UseShellExecute = false });
            var output = process?.StandardOutput.ReadToEnd().Trim();
            process?.WaitForExit();
            if (!string.IsNullOrEmpty(output) && File.Exists(Path.Combine(output, "postgres")))
            {
                return _binDirectory = output;
            }
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // pg_config is not installed (it is in libpq-dev or postgresql-common); look for the server itself.
        }

        var candidate = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault()
            : null;
        return _binDirectory = candidate ?? throw new DistributedApplicationException(
            "PostgreSQL is not installed: no pg_config and no /usr/lib/postgresql/*/bin/postgres. Run scripts/prerequisites.sh.");
    }
}
