extern alias apphost;

using Npgsql;
using apphost::VoiceKraliki.AppHost;
using apphost::VoiceKraliki.AppHost.Testing;

namespace VoiceKraliki.Compliance.Tests.Support;

/// <summary>
/// The real Postgres, Redis and RabbitMQ the AppHost starts, for the whole collection. Tests that write to Postgres
/// take a fresh database of their own on that server (<see cref="CreateDatabaseAsync"/>), so none sees another's rows.
/// </summary>
public sealed class ComplianceInfrastructure : IAsyncLifetime
{
    public const string TestApiKey = "vk_test_compliance_officer_0123";
    public const string OperatorApiKey = "vk_test_operator_0123456789ab";
    public const string AdminApiKey = "vk_test_admin_0123456789abcdef";

    public DistributedApplication App { get; private set; } = null!;

    /// <summary>The service's own database (the server's superuser: tests may create databases and disable triggers).</summary>
    public string Postgres => App.GetConnectionString("postgres-compliance");

    public string Redis => App.GetConnectionString("redis");

    public string Messaging => App.GetConnectionString("messaging");

    public async Task InitializeAsync() => App = await DistributedApplicationTestingBuilder.StartInfrastructureAsync();

    public async Task DisposeAsync() => await App.DisposeAsync();

    /// <summary>A new, empty database on the same server, dropped when disposed.</summary>
    public async Task<TestDatabase> CreateDatabaseAsync()
    {
        var name = "compliance_test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(Postgres))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }

        return new TestDatabase(name, new NpgsqlConnectionStringBuilder(Postgres) { Database = name }.ConnectionString, Postgres);
    }
}

/// <summary>One test's own database; the connection string is the server's superuser's.</summary>
public sealed class TestDatabase(string name, string connectionString, string serverConnectionString) : IAsyncDisposable
{
    public string Name { get; } = name;

    public string ConnectionString { get; } = connectionString;

    /// <summary>Runs SQL (named parameters, e.g. <c>@seq</c>) as the superuser outside any of the code under test (e.g. to tamper with rows).</summary>
    public async Task ExecuteAsync(string sql, params NpgsqlParameter[] parameters)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters);
        await command.ExecuteNonQueryAsync();
    }

    public async Task<T> ScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Runs <paramref name="sql"/> with the audit tables' immutability triggers disabled, as a tamperer would.</summary>
    public Task TamperAsync(string sql, params NpgsqlParameter[] parameters) => ExecuteAsync(
        $"""
        ALTER TABLE audit_entries DISABLE TRIGGER USER;
        ALTER TABLE audit_heads DISABLE TRIGGER USER;
        {sql};
        ALTER TABLE audit_entries ENABLE TRIGGER USER;
        ALTER TABLE audit_heads ENABLE TRIGGER USER;
        """, parameters);

    public async ValueTask DisposeAsync()
    {
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>Tests on the real servers run one at a time: the machine has two cores, and one test times 1,000 appends.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ComplianceInfrastructureCollection : ICollectionFixture<ComplianceInfrastructure>
{
    public const string Name = "Real Postgres (compliance)";
}
