using Npgsql;

namespace VoiceKraliki.AppHost.Model;

/// <summary>Where an infrastructure server listens; chosen when the application is built.</summary>
public abstract class ServerResource(string name) : Resource(name), IResourceWithConnectionString
{
    /// <summary>The loopback port the server listens on (0 until built, or when external).</summary>
    public int Port { get; internal set; }

    /// <summary>A connection string given in the AppHost's configuration: that server is used, none is started.</summary>
    public string? ExternalConnectionString { get; internal set; }

    public bool IsExternal => ExternalConnectionString is not null;

    public abstract string GetConnectionString();
}

public sealed class PostgresServerResource(string name) : ServerResource(name)
{
    private readonly List<PostgresDatabaseResource> _databases = [];

    public string UserName { get; internal set; } = "postgres";

    internal string Password { get; set; } = string.Empty;

    public IReadOnlyList<PostgresDatabaseResource> Databases => _databases;

    internal void AddDatabase(PostgresDatabaseResource database) => _databases.Add(database);

    public override string GetConnectionString() =>
        ExternalConnectionString ?? BuildConnectionString("postgres");

    /// <summary>The Npgsql connection string for one database on this server.</summary>
    public string GetConnectionString(string databaseName)
    {
        if (ExternalConnectionString is not null)
        {
            return new NpgsqlConnectionStringBuilder(ExternalConnectionString) { Database = databaseName }.ConnectionString;
        }

        return BuildConnectionString(databaseName);
    }

    private string BuildConnectionString(string databaseName) =>
        $"Host=127.0.0.1;Port={Port};Database={databaseName};Username={UserName};Password={Password}";
}

public sealed class PostgresDatabaseResource(string name, string databaseName, PostgresServerResource parent)
    : Resource(name), IResourceWithConnectionString, IResourceWithParent
{
    public string DatabaseName { get; } = databaseName;

    public PostgresServerResource Server { get; } = parent;

    public IResource Parent => Server;

    public string GetConnectionString() => Server.GetConnectionString(DatabaseName);
}

public sealed class RedisResource(string name) : ServerResource(name)
{
    public override string GetConnectionString() => ExternalConnectionString ?? $"127.0.0.1:{Port}";
}

public sealed class RabbitMQServerResource(string name) : ServerResource(name)
{
    public string UserName { get; internal set; } = "voicekraliki";

    internal string Password { get; set; } = string.Empty;

    /// <summary>Erlang distribution port (private to this node).</summary>
    internal int DistributionPort { get; set; }

    /// <summary>Port of the epmd this node starts; private so that nothing else shares it.</summary>
    internal int EpmdPort { get; set; }

    internal string NodeId { get; set; } = string.Empty;

    public override string GetConnectionString() =>
        ExternalConnectionString
        ?? $"amqp://{Uri.EscapeDataString(UserName)}:{Uri.EscapeDataString(Password)}@127.0.0.1:{Port}";
}
