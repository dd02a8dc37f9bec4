using System.Globalization;
using VoiceKraliki.AppHost.Model;
using VoiceKraliki.AppHost.Orchestration;

namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>
/// RabbitMQ from the machine's own package, as user rabbitmq, with every file in the state folder and a
/// private epmd (its own port), so nothing is shared with a system broker or another AppHost.
/// </summary>
internal sealed class RabbitMqDriver(RabbitMQServerResource broker, OrchestrationContext context) : ResourceDriver(broker, context)
{
    private const string OsUserName = "rabbitmq";
    private const string ServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";

    private int? _epmdPid;

    private string Root => Context.State.Combine("rabbitmq");

    private string NodeName => $"rabbit-{broker.NodeId}@localhost";

    public override string Kind => broker.IsExternal ? "rabbitmq (external)" : "rabbitmq";

    public override bool HasProcess => !broker.IsExternal;

    /// <summary>Erlang stops the broker gracefully on SIGTERM; that takes a few seconds.</summary>
    public override TimeSpan StopGrace => TimeSpan.FromSeconds(8);

    public override string? GetUrl(int replica) => broker.IsExternal ? "(external)" : $"amqp://127.0.0.1:{broker.Port}";

    public override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (broker.IsExternal)
        {
            return;
        }

        if (!File.Exists(ServerScript))
        {
            throw new DistributedApplicationException($"RabbitMQ is not installed ({ServerScript} is missing). Run scripts/prerequisites.sh.");
        }

        foreach (var folder in new[] { "home", "mnesia", "log", "plugins-expand" })
        {
            Directory.CreateDirectory(Path.Combine(Root, folder));
        }

        // Ports change on every start, so the configuration is written every time.
        await File.WriteAllTextAsync(Path.Combine(Root, "rabbitmq.conf"), string.Join('\n',
        [
            $"listeners.tcp.default = 127.0.0.1:{broker.Port}",
            $"default_user = {broker.UserName}",
            $"default_pass = {broker.Password}",
            "loopback_users = none",
            "log.console = true",
            "log.console.level = info",
            "log.console.use_colors = off",
            "log.file = false",
            "",
        ]), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(Root, "enabled_plugins"), "[].\n", cancellationToken);
        await OsUser.ChownAsync(OsUserName, Root, LogPath(0), cancellationToken);
        UnixFile.SetMode(Path.Combine(Root, "rabbitmq.conf"), UnixFile.OwnerOnly);
    }

    public override ProcessSpec CreateProcessSpec(int replica) => new()
    {
        FileName = ServerScript,
        WorkingDirectory = Root,
        User = OsUserName,
        LogPath = LogPath(replica),
        Label = broker.Name,
        // beam.smp's command line carries "-home <HOME>", which is unique to this state folder.
        Marker = Path.Combine(Root, "home"),
        Environment = new Dictionary<string, string>
        {
            // Makes the script exec erl, so the pid we hold is the broker's (beam.smp).
            ["RUNNING_UNDER_SYSTEMD"] = "true",
            ["HOME"] = Path.Combine(Root, "home"),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(Root, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(Root, "log"),
            ["RABBITMQ_NODE_PORT"] = Invariant(broker.Port),
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_DIST_PORT"] = Invariant(broker.DistributionPort),
            ["RABBITMQ_NODENAME"] = NodeName,
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(Root, "enabled_plugins"),
            ["RABBITMQ_FEATURE_FLAGS_FILE"] = Path.Combine(Root, "feature_flags"),
            ["RABBITMQ_PLUGINS_EXPAND_DIR"] = Path.Combine(Root, "plugins-expand"),
            ["RABBITMQ_CONFIG_FILE"] = Path.Combine(Root, "rabbitmq"),
            ["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(Root, "advanced.config"),
            ["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(Root, "rabbitmq-env.conf"),
            ["ERL_EPMD_PORT"] = Invariant(broker.EpmdPort),
            ["ERL_EPMD_ADDRESS"] = "127.0.0.1",
        },
    };

    public override Task<bool> ProbeAsync(int replica, bool wasReady, CancellationToken cancellationToken)
    {
        if (broker.IsExternal)
        {
            // Checked until it first answers; polling someone else's broker would fill its log.
            if (wasReady)
            {
                return Task.FromResult(true);
            }

            var uri = new Uri(broker.ExternalConnectionString!);
            return Probes.AmqpAsync(uri.Host, uri.Port > 0 ? uri.Port : 5672, cancellationToken);
        }

        // Every AMQP probe is logged by the broker as a connection closed unexpectedly, so once it has
        // answered, a listening socket and a live process are taken as healthy.
        return wasReady
            ? Task.FromResult(Probes.IsListening(broker.Port))
            : Probes.AmqpAsync("127.0.0.1", broker.Port, cancellationToken);
    }

    /// <summary>Remembers the private epmd the broker started, so that it is stopped too, even after a crash.</summary>
    public override Task OnReadyAsync(int replica, CancellationToken cancellationToken)
    {
        if (!broker.IsExternal && FindEpmd() is { } pid && pid != _epmdPid)
        {
            _epmdPid = pid;
            Context.Pids.Add(new PidRecord($"{broker.Name}-epmd", pid, ProcFs.StartTime(pid), "epmd", Posix.SIGTERM, StopOrder: 2));
        }

        return Task.CompletedTask;
    }

    public override async Task OnStoppedAsync(CancellationToken cancellationToken)
    {
        if (broker.IsExternal)
        {
            return;
        }

        var pid = FindEpmd() ?? _epmdPid;
        if (pid is null)
        {
            return;
        }

        Posix.Signal(pid.Value, Posix.SIGTERM);
        for (var i = 0; i < 20 && ProcFs.IsAlive(pid.Value); i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), Context.Time, cancellationToken);
        }

        if (ProcFs.IsAlive(pid.Value))
        {
            Posix.Signal(pid.Value, Posix.SIGKILL);
        }

        Context.Pids.Remove(pid.Value);
        _epmdPid = null;
    }

    /// <summary>The epmd started with our private <c>ERL_EPMD_PORT</c> (it inherits the broker's environment).</summary>
    private int? FindEpmd()
    {
        var expected = $"ERL_EPMD_PORT={broker.EpmdPort}";
        foreach (var pid in ProcFs.AllProcessIds())
        {
            if (ProcFs.Name(pid) == "epmd"
                && ProcFs.Environment(pid).Contains(expected))
            {
                return pid;
            }
        }

        return null;
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
