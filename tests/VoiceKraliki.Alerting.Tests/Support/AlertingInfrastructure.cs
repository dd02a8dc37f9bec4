extern alias apphost;

using Npgsql;
using apphost::VoiceKraliki.AppHost;
using apphost::VoiceKraliki.AppHost.Testing;

namespace VoiceKraliki.Alerting.Tests.Support;

/// <summary>
/// The real Postgres, Redis and RabbitMQ the AppHost starts, for the whole collection. Tests that write to Postgres
/// take a fresh database of their own on that server (<see cref="CreateDatabaseAsync"/>), so none sees another's rows.
/// </summary>
public sealed class AlertingInfrastructure : IAsyncLifetime
{
    public DistributedApplication App { get; private set; } = null!;

    /// <summary>The alerting service's own database (as the server's superuser: tests may create databases).</summary>
    public string Postgres => App.GetConnectionString("postgres-alerting");

    public string Redis => App.GetConnectionString("redis");

    public string Messaging => App.GetConnectionString("messaging");

    public async Task InitializeAsync() => App = await DistributedApplicationTestingBuilder.StartInfrastructureAsync();

    public async Task DisposeAsync() => await App.DisposeAsync();

    /// <summary>A new, empty database on the same server, dropped when disposed.</summary>
    public async Task<TestDatabase> CreateDatabaseAsync()
    {
        var name = "alerting_test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(Postgres))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new TestDatabase(name, new NpgsqlConnectionStringBuilder(Postgres) { Database = name, Pooling = false }.ConnectionString, Postgres);
    }
}

/// <summary>One test's own database; the connection string is the server's superuser's.</summary>
public sealed class TestDatabase(string name, string connectionString, string serverConnectionString) : IAsyncDisposable
{
    public string Name { get; } = name;

    public string ConnectionString { get; } = connectionString;

    /// <summary>Runs SQL (named parameters, e.g. <c>@at</c>) outside the code under test.</summary>
    public async Task ExecuteAsync(string sql, params NpgsqlParameter[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql, params NpgsqlParameter[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>Tests on the real servers run one at a time (the machine has two cores).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AlertingInfrastructureCollection : ICollectionFixture<AlertingInfrastructure>
{
    public const string Name = "Real infrastructure (alerting)";
}
