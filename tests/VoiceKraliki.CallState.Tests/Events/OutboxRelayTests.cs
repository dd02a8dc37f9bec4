using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using VoiceKraliki.CallState.Events;
using VoiceKraliki.CallState.Tests.Persistence;
using VoiceKraliki.Contracts;
using VoiceKraliki.ServiceDefaults.Messaging.Outbox;
using Xunit.Abstractions;

namespace VoiceKraliki.CallState.Tests.Events;

/// <summary>
/// The shared outbox (ServiceDefaults' relay and writer) as the real service runs it, publishing to the real broker,
/// which tests stop and start.
/// </summary>
[Collection(CallStateInfrastructureCollection.Name)]
public sealed class OutboxRelayTests(CallStateInfrastructure infrastructure, ITestOutputHelper output)
{
    private static readonly (string, string?)[] QuickRetries = [("Outbox:PublishTimeout", "00:00:02"), ("Outbox:MaxBackoff", "00:00:01")];

    [Fact]
    public async Task While_the_broker_is_down_events_commit_and_once_it_is_back_every_change_is_published_once()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure, QuickRetries);
        await host.WaitUntilHealthyAsync();
        var tag = Tag();
        var before = Answered(tag, 0);
        await host.ProcessAllAsync(before);
        await infrastructure.Published.WaitForAsync(new HashSet<string> { before[0].ProviderCallId }, 4, TimeSpan.FromSeconds(30));

        var during = Enumerable.Range(1, 20).SelectMany(i => Answered(tag, i)).ToList();
        var callIds = during.Select(e => e.ProviderCallId).ToHashSet();
        await infrastructure.App.StopResourceAsync("messaging");
        try
        {
            var watch = Stopwatch.StartNew();
            var results = await host.ProcessAllAsync(during);
            output.WriteLine($"{during.Count} events committed in {watch.Elapsed.TotalMilliseconds:F0} ms with the broker down");
            Assert.All(results, r => Assert.Equal(CallEventOutcome.Applied, r.Outcome));

            var outbox = await host.OutboxAsync(callIds);
            Assert.Equal(during.Count, outbox.Count);
            Assert.All(outbox, o => Assert.Null(o.PublishedAt));

            // The relay keeps trying, and says why it failed.
            await CallEventProcessorTests.Eventually(async () => (await host.OutboxAsync(callIds)).Any(o => o.Attempts >= 2 && o.LastError is not null));
            var failing = (await host.OutboxAsync(callIds)).Where(o => o.Attempts > 0).ToList();
            output.WriteLine($"while down: {failing.Count} rows tried, up to {failing.Max(o => o.Attempts)} attempts; last error: {failing[0].LastError}");
            Assert.Empty(infrastructure.Published.ForCalls(callIds));
        }
        finally
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await infrastructure.App.StartResourceAsync("messaging", timeout.Token);
        }

        var back = Stopwatch.StartNew();
        await infrastructure.Published.WaitForAsync(callIds, during.Count, TimeSpan.FromSeconds(90));
        output.WriteLine($"all {during.Count} published {back.Elapsed.TotalSeconds:F1} s after the broker was back");
        await CallEventProcessorTests.Eventually(async () => (await host.OutboxAsync(callIds)).All(o => o.PublishedAt is not null));

        // Give a second copy the time to show up, if there were one.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var published = infrastructure.Published.ForCalls(callIds);
        Assert.Equal(during.Count, published.Count);
        Assert.Equal(during.Select(e => e.EventId).Order(), published.Select(c => c.CausedByEventId).Order());
    }

    [Fact]
    public async Task Two_replicas_publish_every_change_exactly_once()
    {
        await using var first = await CallStateHost.StartAsync(infrastructure);
        await using var second = await CallStateHost.StartAsync(infrastructure);
        await first.WaitUntilHealthyAsync();
        await second.WaitUntilHealthyAsync();
        var calls = CallEventStreams.Generate(Tag(), 400, 11);
        var events = CallEventStreams.InArrivalOrder(calls);
        var callIds = calls.Select(c => c.ProviderCallId).ToHashSet();

        // Each replica consumes half of the events, two at a time, as two bus consumers would.
        await Parallel.ForEachAsync(events.Select((e, i) => (e, i)), new ParallelOptions { MaxDegreeOfParallelism = 4 },
            async (p, ct) => await (p.i % 2 == 0 ? first : second).Processor.ProcessAsync(p.e, ct));

        var outbox = await first.OutboxAsync(callIds);
        await infrastructure.Published.WaitForAsync(callIds, outbox.Count, TimeSpan.FromSeconds(60));
        await CallEventProcessorTests.Eventually(async () => (await first.OutboxAsync(callIds)).All(o => o.PublishedAt is not null));
        await Task.Delay(TimeSpan.FromSeconds(2));

        var published = infrastructure.Published.ForCalls(callIds);
        Assert.Equal(outbox.Count, published.Count);
        Assert.Equal(outbox.Select(o => o.Id).Order(), published.Select(c => c.EventId).Order());
        await CallStateAssertions.AssertExactlyOnceAsync(first, events);
    }

    [Fact]
    public async Task A_row_that_cannot_be_published_is_retried_with_backoff_and_holds_up_nothing()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure, QuickRetries);
        await host.WaitUntilHealthyAsync();
        var poison = Guid.NewGuid();
        await using var dataSource = NpgsqlDataSource.Create(infrastructure.Postgres);
        await using (var insert = dataSource.CreateCommand(
                         "INSERT INTO outbox_messages (id, type, payload, created_at) VALUES ($1, 'NoSuchEvent', '{}', now() - interval '1 hour')"))
        {
            insert.Parameters.AddWithValue(poison);
            await insert.ExecuteNonQueryAsync();
        }

        try
        {
            // The oldest row cannot be published; the changes behind it are.
            var events = Answered(Tag(), 0);
            await host.ProcessAllAsync(events);
            await infrastructure.Published.WaitForAsync(new HashSet<string> { events[0].ProviderCallId }, 4, TimeSpan.FromSeconds(30));

            await CallEventProcessorTests.Eventually(async () => await AttemptsAsync(dataSource, poison) >= 3);
            await using var read = dataSource.CreateCommand("SELECT published_at IS NULL, last_error, next_attempt_at > now() - interval '1 minute' FROM outbox_messages WHERE id = $1");
            read.Parameters.AddWithValue(poison);
            await using var reader = await read.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.True(reader.GetBoolean(0));
            Assert.Contains("unknown type 'NoSuchEvent'", reader.GetString(1), StringComparison.Ordinal);
            Assert.True(reader.GetBoolean(2));
        }
        finally
        {
            await using var delete = dataSource.CreateCommand("DELETE FROM outbox_messages WHERE id = $1");
            delete.Parameters.AddWithValue(poison);
            await delete.ExecuteNonQueryAsync();
        }
    }

    [Fact]
    public async Task An_event_enqueued_over_plain_Npgsql_is_published_once_its_transaction_commits_and_never_if_it_rolls_back()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        await host.WaitUntilHealthyAsync();
        var writer = host.Services.GetRequiredService<OutboxWriter>();
        var dataSource = host.Services.GetRequiredService<NpgsqlDataSource>();
        var tag = Tag();
        var committed = StateChanged(CallEventStreams.TwilioId(tag, 0));
        var rolledBack = StateChanged(CallEventStreams.TwilioId(tag, 1));

        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            await using (var transaction = await connection.BeginTransactionAsync())
            {
                await writer.EnqueueAsync(connection, transaction, rolledBack, CancellationToken.None);
                await transaction.RollbackAsync();
            }

            await using (var transaction = await connection.BeginTransactionAsync())
            {
                await writer.EnqueueAsync(connection, transaction, committed, CancellationToken.None);
                await transaction.CommitAsync();
            }
        }

        writer.Notify();
        await infrastructure.Published.WaitForAsync(new HashSet<string> { committed.ProviderCallId }, 1, TimeSpan.FromSeconds(30));
        Assert.Equal([committed.EventId], infrastructure.Published.MessageIdsOf(committed.EventId));
        Assert.Equal(committed, Assert.Single(infrastructure.Published.ForCall(committed.ProviderCallId)));

        var outbox = await host.OutboxAsync([committed.ProviderCallId, rolledBack.ProviderCallId]);
        var row = Assert.Single(outbox);
        Assert.Equal((committed.EventId, nameof(CallStateChanged), 0), (row.Id, row.Type, row.Attempts));
        await CallEventProcessorTests.Eventually(async () => (await host.OutboxAsync([committed.ProviderCallId])).Single().PublishedAt is not null);
        Assert.Empty(infrastructure.Published.ForCall(rolledBack.ProviderCallId));
    }

    [Fact]
    public async Task The_shared_outbox_schema_creates_the_table_call_state_migrated()
    {
        await using var host = await CallStateHost.StartAsync(infrastructure);
        var schema = $"outbox_schema_{Tag()}";
        await using var dataSource = NpgsqlDataSource.Create(infrastructure.Postgres);
        await using (var create = dataSource.CreateCommand($"CREATE SCHEMA {schema}; SET search_path TO {schema}; {OutboxSchema.Sql} RESET search_path"))
        {
            await create.ExecuteNonQueryAsync();
        }

        try
        {
            // Call-state's own index on top (migration 0003: retention deletes a call's events) is its only difference.
            var callState = await DescribeOutboxAsync(dataSource, "public");
            Assert.Single(callState, s => s.StartsWith("ix_outbox_messages_call:", StringComparison.Ordinal));
            Assert.Equal(callState.Where(s => !s.StartsWith("ix_outbox_messages_call:", StringComparison.Ordinal)), await DescribeOutboxAsync(dataSource, schema));
        }
        finally
        {
            await using var drop = dataSource.CreateCommand($"DROP SCHEMA {schema} CASCADE");
            await drop.ExecuteNonQueryAsync();
        }
    }

    /// <summary>The columns (name, type, nullability, default) and index definitions of a schema's outbox_messages.</summary>
    private static async Task<List<string>> DescribeOutboxAsync(NpgsqlDataSource dataSource, string schema)
    {
        var shape = new List<string>();
        await using (var columns = dataSource.CreateCommand(
                         """
                         SELECT column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '-')
                         FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'outbox_messages'
                         ORDER BY ordinal_position
                         """))
        {
            columns.Parameters.AddWithValue(schema);
            await using var reader = await columns.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                shape.Add(reader.GetString(0));
            }
        }

        await using (var indexes = dataSource.CreateCommand(
                         "SELECT indexname || ': ' || replace(indexdef, $1 || '.', '') FROM pg_indexes WHERE schemaname = $1 AND tablename = 'outbox_messages' ORDER BY indexname"))
        {
            indexes.Parameters.AddWithValue(schema);
            await using var reader = await indexes.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                shape.Add(reader.GetString(0));
            }
        }

        Assert.NotEmpty(shape);
        return shape;
    }

    private static CallStateChanged StateChanged(string providerCallId) => new(
        Guid.CreateVersion7(), CallEventStreams.Now(), providerCallId, TelephonyProvider.Twilio, providerCallId,
        CallStatus.Ringing, CallStatus.Answered, CallEndReason.None, CallDirection.Inbound, Guid.NewGuid(), null);

    private static async Task<int> AttemptsAsync(NpgsqlDataSource dataSource, Guid id)
    {
        await using var command = dataSource.CreateCommand("SELECT attempts FROM outbox_messages WHERE id = $1");
        command.Parameters.AddWithValue(id);
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private static List<CallEventReceived> Answered(string tag, int index) =>
        CallEventStreams.Twilio(new Random(index), CallEventStreams.TwilioId(tag, index), CallEventStreams.Now(), CallEventStreams.TwilioScenario.Answered);

    private static string Tag() => Guid.NewGuid().ToString("N")[..10];
}
