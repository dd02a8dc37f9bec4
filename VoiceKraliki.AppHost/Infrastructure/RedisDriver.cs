using System.Globalization;
using VoiceKraliki.AppHost.Model;
using VoiceKraliki.AppHost.Orchestration;

namespace VoiceKraliki.AppHost.Infrastructure;

/// <summary>redis-server in the foreground as user redis, persisting to the state folder (RDB and AOF).</summary>
internal sealed class RedisDriver(RedisResource redis, OrchestrationContext context) : ResourceDriver(redis, context)
{
    private const string OsUserName = "redis";

    private string Root => Context.State.Combine("redis");

    public override string Kind => redis.IsExternal ? "redis (external)" : "redis";

    public override bool HasProcess => !redis.IsExternal;

    public override string? GetUrl(int replica) => redis.IsExternal ? "(external)" : $"redis://127.0.0.1:{redis.Port}";

    public override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (redis.IsExternal)
        {
            return;
        }

        Directory.CreateDirectory(Root);
        await OsUser.ChownAsync(OsUserName, Root, LogPath(0), cancellationToken);
    }

    public override ProcessSpec CreateProcessSpec(int replica) => new()
    {
        FileName = "redis-server",
        Arguments =
        [
            "--port", redis.Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--dir", Root, "--dbfilename", "dump.rdb", "--save", "60 1", "--appendonly", "yes",
            "--daemonize", "no", "--protected-mode", "yes",
        ],
        WorkingDirectory = Root,
        User = OsUserName,
        LogPath = LogPath(replica),
        Label = redis.Name,
        // redis-server rewrites its command line to "redis-server 127.0.0.1:PORT".
        Marker = $"127.0.0.1:{redis.Port}",
    };

    public override Task<bool> ProbeAsync(int replica, bool wasReady, CancellationToken cancellationToken)
    {
        var (host, port) = Endpoint();
        return Probes.RedisAsync(host, port, cancellationToken);
    }

    private (string Host, int Port) Endpoint()
    {
        if (!redis.IsExternal)
        {
            return ("127.0.0.1", redis.Port);
        }

        // StackExchange.Redis form: "host:port,option=value,…"
        var first = redis.ExternalConnectionString!.Split(',')[0].Trim();
        var colon = first.LastIndexOf(':');
        return colon > 0 && int.TryParse(first[(colon + 1)..], CultureInfo.InvariantCulture, out var port)
            ? (first[..colon], port)
            : (first, 6379);
    }
}
