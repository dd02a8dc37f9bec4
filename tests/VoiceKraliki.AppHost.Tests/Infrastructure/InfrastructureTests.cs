using System.Buffers.Binary;
using Npgsql;
using RabbitMQ.Client;
using VoiceKraliki.AppHost.Orchestration;
using VoiceKraliki.AppHost.Testing;
using VoiceKraliki.AppHost.Tests.Support;

namespace VoiceKraliki.AppHost.Tests.Infrastructure;

[Collection(InfrastructureCollection.Name)]
public sealed class InfrastructureTests(InfrastructureFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private DistributedApplication App => fixture.App;

    [Fact]
    public async Task Postgres_answers_and_each_service_database_exists()
    {
        using var cts = new CancellationTokenSource(Timeout);
        foreach (var (resource, database) in new[] { ("postgres-call-state", "callstate"), ("postgres-compliance", "compliance"), ("postgres-alerting", "alerting") })
        {
            await using var connection = new NpgsqlConnection(App.GetConnectionString(resource));
            await connection.OpenAsync(cts.Token);
            await using var command = new NpgsqlCommand("SELECT current_database(), 1", connection);
            await using var reader = await command.ExecuteReaderAsync(cts.Token);
            Assert.True(await reader.ReadAsync(cts.Token));
            Assert.Equal(database, reader.GetString(0));
            Assert.Equal(1, reader.GetInt32(1));
        }
    }

    [Fact]
    public void Connection_strings_have_the_Aspire_forms()
    {
        Assert.Matches(@"^Host=127\.0\.0\.1;Port=\d+;Database=callstate;Username=postgres;Password=[A-Za-z0-9_-]+$", App.GetConnectionString("postgres-call-state"));
        Assert.Matches(@"^127\.0\.0\.1:\d+$", App.GetConnectionString("redis"));
        Assert.Matches(@"^amqp://[^:]+:[^@]+@127\.0\.0\.1:\d+$", App.GetConnectionString("messaging"));
    }

    [Fact]
    public async Task Redis_answers_ping()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await App.WaitForResourceHealthyAsync("redis", Timeout, cts.Token);
        Assert.StartsWith("+PONG", await RawClients.RedisCommandAsync(App.GetConnectionString("redis"), "PING", cts.Token));
    }

    [Fact]
    public async Task RabbitMQ_answers_the_protocol_header_with_connection_start()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var uri = new Uri(App.GetConnectionString("messaging"));
        var frame = await RawClients.AmqpHandshakeAsync(uri.Host, uri.Port, cts.Token);

        Assert.Equal(1, frame[0]); // method frame
        Assert.Equal(10, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(7))); // class: connection
        Assert.Equal(10, BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(9))); // method: start
    }

    [Fact]
    public async Task RabbitMQ_accepts_the_generated_credentials_and_carries_a_message()
    {
        using var cts = new CancellationTokenSource(Timeout);
        var factory = new ConnectionFactory { Uri = new Uri(App.GetConnectionString("messaging")) };
        await using var connection = await factory.CreateConnectionAsync(cts.Token);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cts.Token);
        var queue = await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true, cancellationToken: cts.Token);

        await channel.BasicPublishAsync("", queue.QueueName, "hello"u8.ToArray(), cts.Token);
        BasicGetResult? message = null;
        while (message is null)
        {
            message = await channel.BasicGetAsync(queue.QueueName, autoAck: true, cts.Token);
        }

        Assert.Equal("hello", System.Text.Encoding.UTF8.GetString(message.Body.Span));
    }

    [Theory]
    [InlineData("postgres", "postgres", "postgres")]
    [InlineData("redis", "redis-server", "redis")]
    [InlineData("messaging", "beam.smp", "rabbitmq")]
    public async Task Each_server_runs_healthy_as_its_own_user(string resource, string executable, string user)
    {
        await App.WaitForResourceHealthyAsync(resource, Timeout);
        var snapshot = App.GetResource(resource);

        Assert.Equal(ResourceState.Healthy, snapshot.State);
        var pid = Assert.Single(snapshot.ProcessIds);
        Assert.Equal(executable, File.ReadAllText($"/proc/{pid}/comm").Trim());
        var uid = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t')[1];
        Assert.Equal(UserId(user), uid);
    }

    [Fact]
    public async Task A_resource_stopped_on_purpose_stays_stopped_and_starts_again_with_its_data()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await App.WaitForResourceHealthyAsync("redis", Timeout, cts.Token);
        var redis = App.GetConnectionString("redis");
        Assert.StartsWith("+OK", await RawClients.RedisCommandAsync(redis, "SET apphost-test kept", cts.Token));
        var restartsBefore = App.GetResource("redis").Restarts;

        await App.StopResourceAsync("redis", cts.Token);
        await Task.Delay(TimeSpan.FromSeconds(2.5), cts.Token); // longer than the first restart backoff

        var stopped = App.GetResource("redis");
        Assert.Equal(ResourceState.Stopped, stopped.State);
        Assert.Empty(stopped.ProcessIds);
        Assert.Equal(restartsBefore, stopped.Restarts);
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => RawClients.RedisCommandAsync(redis, "PING", cts.Token));

        await App.StartResourceAsync("redis", cts.Token);

        Assert.Equal(ResourceState.Healthy, App.GetResource("redis").State);
        Assert.Equal(redis, App.GetConnectionString("redis"));
        Assert.Contains("kept", await RawClients.RedisCommandAsync(redis, "GET apphost-test", cts.Token));
    }

    [Fact]
    public async Task A_server_that_dies_is_restarted_and_the_restart_is_counted()
    {
        using var cts = new CancellationTokenSource(Timeout);
        await App.WaitForResourceHealthyAsync("redis", Timeout, cts.Token);
        var before = App.GetResource("redis");
        var pid = Assert.Single(before.ProcessIds);

        System.Diagnostics.Process.GetProcessById(pid).Kill();

        while (App.GetResource("redis") is var now && (now.Restarts == before.Restarts || now.State != ResourceState.Healthy))
        {
            await Task.Delay(100, cts.Token);
        }

        var after = App.GetResource("redis");
        Assert.Equal(before.Restarts + 1, after.Restarts);
        Assert.NotEqual(pid, Assert.Single(after.ProcessIds));
        Assert.StartsWith("+PONG", await RawClients.RedisCommandAsync(App.GetConnectionString("redis"), "PING", cts.Token));
    }

    [Fact]
    public async Task A_second_apphost_on_the_same_state_folder_is_refused_naming_the_first()
    {
        var refused = await Assert.ThrowsAsync<AppHostAlreadyRunningException>(() =>
            DistributedApplicationTestingBuilder.CreateAsync(new TestingOptions { InfrastructureOnly = true, StateDirectory = App.StateDirectory }));

        Assert.Contains($"pid {Environment.ProcessId}", refused.Message);
        Assert.Contains(App.StateDirectory, refused.Message);
        Assert.Contains("already running", refused.Message);
        // The first one is untouched.
        Assert.Equal(ResourceState.Healthy, App.GetResource("postgres").State);
    }

    private static string UserId(string user) =>
        File.ReadLines("/etc/passwd").Select(l => l.Split(':')).Single(f => f[0] == user)[2];
}
