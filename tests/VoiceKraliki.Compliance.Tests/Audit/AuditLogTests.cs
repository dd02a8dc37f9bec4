using System.Data;
using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using VoiceKraliki.Compliance.Audit;
using VoiceKraliki.Compliance.Tests.Support;
using Xunit.Abstractions;

namespace VoiceKraliki.Compliance.Tests.Audit;

/// <summary>The audit log on the real Postgres: appends, immutability, caller transactions and concurrent replicas.</summary>
[Collection(ComplianceInfrastructureCollection.Name)]
public sealed class AuditLogTests(ComplianceInfrastructure infrastructure, ITestOutputHelper output)
{
    private static readonly DateTimeOffset Start = new(2025, 6, 10, 12, 0, 0, TimeSpan.Zero);

    internal static AuditRecord Record(int i, string kind = AuditKinds.ConsentGiven) => new(
        kind,
        "ivr",
        $"hmac-{i:x8}",
        new Dictionary<string, object?> { ["purpose"] = "recording", ["method"] = "keypress", ["n"] = i });

    [Fact]
    public async Task Appends_take_consecutive_seqs_and_each_head_is_the_merkle_root_of_the_entries_so_far()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        var clock = new TestClock(Start);
        await using var replica = await AuditReplica.StartAsync(database, clock);

        var receipts = new List<AuditReceipt>();
        for (var i = 0; i < 6; i++)
        {
            receipts.Add(await replica.Log.AppendAsync(Record(i)));
        }

        Assert.Equal([0, 1, 2, 3, 4, 5], receipts.Select(r => r.Seq));
        Assert.Equal([1, 2, 3, 4, 5, 6], receipts.Select(r => r.TreeSize));

        // Recomputed here from what was appended: the canonical entry, its leaf hash, the tree head.
        var leaves = new List<byte[]>();
        for (var i = 0; i < 6; i++)
        {
            var record = Record(i);
            var entry = AuditEntryFormat.Encode(i, receipts[i].OccurredAt, record.Kind, record.Actor, record.Subject, record.Details);
            leaves.Add(MerkleTree.HashLeaf(entry));
            Assert.Equal(Convert.ToHexStringLower(leaves[i]), receipts[i].LeafHash);
            Assert.Equal(Convert.ToHexStringLower(MerkleTree.RootHash(leaves)), receipts[i].RootHash);
        }

        Assert.Equal(AuditEntryFormat.Truncate(Start), receipts[0].OccurredAt);
        var head = await replica.Log.HeadAsync();
        Assert.Equal(6, head.Size);
        Assert.Equal(receipts[^1].RootHash, head.RootHash);

        var verification = await replica.Log.VerifyAsync();
        Assert.True(verification.Ok, verification.Detail);
        Assert.Equal(6, verification.Size);
        Assert.Equal(head.RootHash, verification.RootHash);
    }

    [Fact]
    public async Task An_empty_log_has_the_empty_tree_head_and_verifies()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var replica = await AuditReplica.StartAsync(database);

        var head = await replica.Log.HeadAsync();
        Assert.Equal(new AuditHead(0, Convert.ToHexStringLower(MerkleTree.EmptyRootHash()), null), head);
        Assert.True((await replica.Log.VerifyAsync()).Ok);
        Assert.Empty((await replica.Log.EntriesAsync(0, 10)).Entries);
    }

    [Fact]
    public async Task Details_come_back_from_jsonb_as_the_same_canonical_bytes()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var replica = await AuditReplica.StartAsync(database);
        using var details = JsonDocument.Parse(
            """
            {
              "zeta": [1e2, 1.50, -0, 0.0015, 12345678901234567890, true, null, "x"],
              "alpha": { "nested": { "b": "tab\there", "a": "quote\" backslash\\ slash/" } },
              "ünïcödé": "日本語 🎉 \u0001 <&>",
              "bb": {}, "a": [], "B": "upper first"
            }
            """);

        var receipt = await replica.Log.AppendAsync(new AuditRecord(AuditKinds.PolicyChanged, "admin:jane", null, details.RootElement));

        var verification = await replica.Log.VerifyAsync();
        Assert.True(verification.Ok, verification.Detail);
        var stored = Assert.Single((await replica.Log.EntriesAsync(0, 10)).Entries);
        Assert.Equal(receipt.LeafHash, stored.LeafHash);
        Assert.Null(stored.Subject);
        Assert.Equal(AuditEntryFormat.CanonicalDetails(details.RootElement), AuditEntryFormat.CanonicalDetails(stored.Details));
    }

    [Fact]
    public async Task Entries_are_paged_in_seq_order()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var replica = await AuditReplica.StartAsync(database);
        for (var i = 0; i < 5; i++)
        {
            await replica.Log.AppendAsync(Record(i));
        }

        var first = await replica.Log.EntriesAsync(0, 2);
        Assert.Equal([0, 1], first.Entries.Select(e => e.Seq));
        Assert.Equal(2, first.Next);
        var last = await replica.Log.EntriesAsync(4, 2);
        Assert.Equal([4], last.Entries.Select(e => e.Seq));
        Assert.Null(last.Next);
        var exact = await replica.Log.EntriesAsync(3, 2);
        Assert.Null(exact.Next);
    }

    [Fact]
    public async Task Audit_rows_cannot_be_updated_deleted_or_truncated()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var replica = await AuditReplica.StartAsync(database);
        await replica.Log.AppendAsync(Record(0));
        await replica.Log.AppendAsync(Record(1));

        foreach (var sql in new[]
                 {
                     "UPDATE audit_entries SET details = '{\"purpose\":\"marketing\"}' WHERE seq = 0",
                     "UPDATE audit_entries SET leaf_hash = sha256('x') WHERE seq = 1",
                     "DELETE FROM audit_entries WHERE seq = 1",
                     "TRUNCATE audit_entries, audit_heads",
                     "UPDATE audit_heads SET root_hash = sha256('x') WHERE size = 2",
                     "DELETE FROM audit_heads",
                 })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => database.ExecuteAsync(sql));
            Assert.Contains("immutable", error.MessageText, StringComparison.Ordinal);
        }

        Assert.Equal(2L, await database.ScalarAsync<long>("SELECT count(*) FROM audit_entries"));
        Assert.True((await replica.Log.VerifyAsync()).Ok);
    }

    [Fact]
    public async Task An_append_inside_the_callers_transaction_exists_exactly_when_the_callers_writes_do()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var replica = await AuditReplica.StartAsync(database);
        await database.ExecuteAsync("CREATE TABLE consents (subject text PRIMARY KEY)");
        await replica.Log.AppendAsync(Record(0));

        await using (var connection = await replica.DataSource.OpenConnectionAsync())
        {
            await using (var rolledBack = await connection.BeginTransactionAsync())
            {
                await InsertConsentAsync(connection, rolledBack, "hmac-rolled-back");
                var receipt = await replica.Log.AppendAsync(connection, rolledBack, Record(1));
                Assert.Equal(1, receipt.Seq);
                await rolledBack.RollbackAsync();
            }

            Assert.Equal(1, (await replica.Log.HeadAsync()).Size);

            await using var committed = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted);
            await InsertConsentAsync(connection, committed, "hmac-committed");
            var kept = await replica.Log.AppendAsync(connection, committed, Record(2, AuditKinds.ConsentWithdrawn));
            await committed.CommitAsync();
            Assert.Equal(1, kept.Seq);
        }

        var head = await replica.Log.HeadAsync();
        Assert.Equal(2, head.Size);
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM consents"));
        Assert.Equal(AuditKinds.ConsentWithdrawn, (await replica.Log.EntriesAsync(1, 1)).Entries[0].Kind);
        Assert.True((await replica.Log.VerifyAsync()).Ok);

        // A snapshot taken before the lock could miss the latest append.
        await using var other = await replica.DataSource.OpenConnectionAsync();
        await using var repeatable = await other.BeginTransactionAsync(IsolationLevel.RepeatableRead);
        await Assert.ThrowsAsync<ArgumentException>(() => replica.Log.AppendAsync(other, repeatable, Record(3)));
    }

    [Theory]
    [InlineData("12345678-1234-1234-1234-123456789012")]
    [InlineData("3f2a9c0d5e6b7a8190a1b2c3d4e5f60718293a4b5c6d7e8f9012a3b4c5d6e7f8")]
    [InlineData("subject-42")]
    public async Task Pseudonymous_subjects_are_accepted_even_when_mostly_digits(string subject)
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var replica = await AuditReplica.StartAsync(database);

        var receipt = await replica.Log.AppendAsync(new AuditRecord(AuditKinds.ConsentGiven, "ivr", subject, new Dictionary<string, object?>()));

        Assert.Equal(subject, (await replica.Log.EntriesAsync(receipt.Seq, 1)).Entries[0].Subject);
    }

    [Fact]
    public async Task An_append_cancelled_while_queued_is_not_written()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var replica = await AuditReplica.StartAsync(database);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => replica.Log.AppendAsync(Record(0), cancelled.Token));
        var next = await replica.Log.AppendAsync(Record(1));

        Assert.Equal(0, next.Seq);
        Assert.Equal(1, (await replica.Log.HeadAsync()).Size);
        Assert.Equal(1, (await replica.Log.EntriesAsync(0, 10)).Entries.Single().Details.GetProperty("n").GetInt32());
    }

    [Theory]
    [InlineData("Consent.Given", "ivr", "hmac-1", "kind")]
    [InlineData("consent given", "ivr", "hmac-1", "kind")]
    [InlineData("", "ivr", "hmac-1", "kind")]
    [InlineData("decision", " ", "hmac-1", "actor")]
    [InlineData("decision", "ivr", "+14155550123", "subject")]
    [InlineData("decision", "ivr", "(415) 555-0123", "subject")]
    [InlineData("decision", "ivr", "", "subject")]
    [InlineData("decision", "ivr", "0044 20 7946 0958", "subject")]
    [InlineData("decision", "iv\0r", "hmac-1", "U+0000")]
    public async Task Records_the_log_must_not_hold_are_refused_before_anything_is_written(string kind, string actor, string subject, string because)
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var replica = await AuditReplica.StartAsync(database);

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            replica.Log.AppendAsync(new AuditRecord(kind, actor, subject, new Dictionary<string, object?>())));

        Assert.Contains(because, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, (await replica.Log.HeadAsync()).Size);
    }

    [Fact]
    public async Task A_thousand_concurrent_appends_over_two_replicas_leave_one_gapless_chain_that_verifies()
    {
        const int Count = 1000;
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var first = await AuditReplica.StartAsync(database);
        await using var second = await AuditReplica.StartAsync(database);
        var replicas = new[] { first.Log, second.Log };

        var watch = Stopwatch.StartNew();
        using var go = new SemaphoreSlim(0);
        var appends = Enumerable.Range(0, Count).Select(i => Task.Run(async () =>
        {
            await go.WaitAsync();
            return await replicas[i % 2].AppendAsync(Record(i, AuditKinds.RequestStep));
        })).ToArray();
        watch.Restart();
        go.Release(Count);
        var receipts = await Task.WhenAll(appends);
        var elapsed = watch.Elapsed;
        output.WriteLine($"{Count} concurrent appends over 2 replicas: {elapsed.TotalMilliseconds:F0} ms ({elapsed.TotalMilliseconds / Count:F2} ms each)");

        Assert.Equal(Enumerable.Range(0, Count).Select(i => (long)i), receipts.Select(r => r.Seq).Order());
        Assert.Equal(
            Enumerable.Range(0, Count).Select(i => (long)i),
            (await first.Log.EntriesAsync(0, Count + 1)).Entries.Select(e => e.Seq));
        Assert.Equal(Count, (await second.Log.HeadAsync()).Size);

        var verification = await first.Log.VerifyAsync();
        Assert.True(verification.Ok, verification.Detail);
        Assert.Equal(Count, verification.Size);

        // No fork: the head each append returned is the head of a prefix of the final log.
        var leaves = (await first.Log.EntriesAsync(0, Count)).Entries.Select(e => Convert.FromHexString(e.LeafHash)).ToList();
        foreach (var receipt in receipts)
        {
            Assert.Equal(receipt.Seq + 1, receipt.TreeSize);
            Assert.Equal(receipt.LeafHash, Convert.ToHexStringLower(leaves[(int)receipt.Seq]));
            Assert.Equal(receipt.RootHash, Convert.ToHexStringLower(MerkleTree.RootHash(leaves, receipt.TreeSize)));
        }
    }

    private static async Task InsertConsentAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string subject)
    {
        await using var insert = new NpgsqlCommand("INSERT INTO consents (subject) VALUES (@subject)", connection, transaction);
        insert.Parameters.AddWithValue("subject", subject);
        await insert.ExecuteNonQueryAsync();
    }
}
