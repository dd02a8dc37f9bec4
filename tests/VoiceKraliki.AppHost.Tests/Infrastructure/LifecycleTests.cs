using Npgsql;
using RabbitMQ.Client;
using VoiceKraliki.AppHost.Infrastructure;
using VoiceKraliki.AppHost.Testing;
using VoiceKraliki.AppHost.Tests.Support;

namespace VoiceKraliki.AppHost.Tests.Infrastructure;

/// <summary>Whole AppHost lifetimes on one state folder: what one writes, the next one reads; nothing outlives either.</summary>
[Collection(InfrastructureCollection.Name)]
public sealed class LifecycleTests : IDisposable
{
    private readonly string _state = Directory.CreateTempSubdirectory("voicekraliki-lifecycle-").FullName;

    [Fact]
    public async Task Data_survives_a_restart_of_the_infrastructure_and_disposal_leaves_no_process_behind()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var options = new TestingOptions { InfrastructureOnly = true, StateDirectory = _state };

        int[] ports;
        int[] pids;
        string apiKey;
        await using (var first = await DistributedApplicationTestingBuilder.CreateAsync(options, cts.Token))
        {
            await first.StartAsync(cts.Token);
            apiKey = first.DevApiKey!;
            await ExecuteAsync(first, "CREATE TABLE survivors (name text); INSERT INTO survivors VALUES ('kept')", cts.Token);
            await RawClients.RedisCommandAsync(first.GetConnectionString("redis"), "SET survivor kept", cts.Token);
            await using (var connection = await Broker(first).CreateConnectionAsync(cts.Token))
            await using (var channel = await connection.CreateChannelAsync(cancellationToken: cts.Token))
            {
                await channel.QueueDeclareAsync("survivors", durable: true, exclusive: false, autoDelete: false, cancellationToken: cts.Token);
            }

            ports = Ports(first);
            pids = [.. first.GetResources().SelectMany(r => r.ProcessIds)];
            Assert.Equal(3, pids.Length);
        }

        AssertNothingLeft(ports, pids);

        await using (var second = await DistributedApplicationTestingBuilder.CreateAsync(options, cts.Token))
        {
            await second.StartAsync(cts.Token);
            await using var connection = new NpgsqlConnection(second.GetConnectionString("postgres-call-state"));
            await connection.OpenAsync(cts.Token);
            await using var select = new NpgsqlCommand("SELECT name FROM survivors", connection);
            Assert.Equal("kept", await select.ExecuteScalarAsync(cts.Token));
            Assert.Contains("kept", await RawClients.RedisCommandAsync(second.GetConnectionString("redis"), "GET survivor", cts.Token));
            await using (var broker = await Broker(second).CreateConnectionAsync(cts.Token))
            await using (var channel = await broker.CreateChannelAsync(cancellationToken: cts.Token))
            {
                await channel.QueueDeclarePassiveAsync("survivors", cts.Token);
            }

            // Generated credentials are generated once per state folder.
            Assert.Equal(apiKey, second.DevApiKey);
            ports = Ports(second);
            pids = [.. second.GetResources().SelectMany(r => r.ProcessIds)];
        }

        AssertNothingLeft(ports, pids);
    }

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private void AssertNothingLeft(int[] ports, int[] pids)
    {
        // postgres, redis-server, beam.smp and epmd all carry the state folder in their command line or environment.
        Assert.Empty(ProcessScanner.Mentioning(_state));
        Assert.All(pids, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"process {pid} is still there"));
        Assert.All(ports, port => Assert.False(Probes.IsListening(port), $"port {port} still listens"));
    }

    private static async Task ExecuteAsync(DistributedApplication app, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(app.GetConnectionString("postgres-call-state"));
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static ConnectionFactory Broker(DistributedApplication app) => new() { Uri = new Uri(app.GetConnectionString("messaging")) };

    private static int[] Ports(DistributedApplication app) =>
        [.. new[] { "postgres", "redis", "messaging" }.Select(name => app.GetEndpoint(name).Port)];
}
