using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.Compliance.Audit;
using VoiceKraliki.Compliance.Tests.Support;

namespace VoiceKraliki.Compliance.Tests.Audit;

/// <summary>
/// Someone with superuser rights disables the immutability triggers and changes history directly in Postgres:
/// <c>GET /api/compliance/audit/verify</c> must then fail, naming the entry where the log stops matching.
/// </summary>
[Collection(ComplianceInfrastructureCollection.Name)]
public sealed class AuditTamperTests(ComplianceInfrastructure infrastructure)
{
    private const int Entries = 6;

    public static TheoryData<string, string, long, AuditFailure> Tampering => new()
    {
        { "details changed", "UPDATE audit_entries SET details = '{\"purpose\":\"marketing\"}' WHERE seq = 3", 3, AuditFailure.LeafHashMismatch },
        { "details number changed", "UPDATE audit_entries SET details = jsonb_set(details, '{n}', '30') WHERE seq = 3", 3, AuditFailure.LeafHashMismatch },
        { "kind changed", "UPDATE audit_entries SET kind = 'consent.withdrawn' WHERE seq = 3", 3, AuditFailure.LeafHashMismatch },
        { "actor changed", "UPDATE audit_entries SET actor = 'web' WHERE seq = 0", 0, AuditFailure.LeafHashMismatch },
        { "subject changed", "UPDATE audit_entries SET subject = 'hmac-ffffffff' WHERE seq = 4", 4, AuditFailure.LeafHashMismatch },
        { "subject removed", "UPDATE audit_entries SET subject = NULL WHERE seq = 4", 4, AuditFailure.LeafHashMismatch },
        { "occurred_at moved by 1 µs", "UPDATE audit_entries SET occurred_at = occurred_at + interval '1 microsecond' WHERE seq = 2", 2, AuditFailure.LeafHashMismatch },
        { "leaf_hash changed", "UPDATE audit_entries SET leaf_hash = sha256('forged') WHERE seq = 5", 5, AuditFailure.LeafHashMismatch },
        { "details made unreadable", "UPDATE audit_entries SET details = '{\"n\":1e400}' WHERE seq = 1", 1, AuditFailure.UnreadableEntry },
        { "entry deleted", "DELETE FROM audit_entries WHERE seq = 3", 3, AuditFailure.MissingEntry },
        { "entry and its head deleted", "DELETE FROM audit_entries WHERE seq = 3; DELETE FROM audit_heads WHERE size = 4", 3, AuditFailure.MissingEntry },
        { "last entry deleted", "DELETE FROM audit_entries WHERE seq = 5", 5, AuditFailure.MissingEntry },
        { "head root changed", "UPDATE audit_heads SET root_hash = sha256('forged') WHERE size = 3", 2, AuditFailure.RootMismatch },
        { "head deleted", "DELETE FROM audit_heads WHERE size = 2", 1, AuditFailure.MissingHead },
        { "entry inserted without the lock", "INSERT INTO audit_entries SELECT seq + 6, occurred_at, kind, actor, subject, details, leaf_hash FROM audit_entries WHERE seq = 0", 6, AuditFailure.LeafHashMismatch },
    };

    [Theory]
    [MemberData(nameof(Tampering))]
    public async Task Verify_names_the_first_entry_that_no_longer_matches(string tampering, string sql, long seq, AuditFailure failure)
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var host = await AuditHost.StartAsync(infrastructure, database, new TestClock(new DateTimeOffset(2025, 6, 10, 12, 0, 0, TimeSpan.Zero)));
        for (var i = 0; i < Entries; i++)
        {
            await host.Log.AppendAsync(AuditLogTests.Record(i));
        }

        var client = host.CreateClient();
        var before = await client.GetFromJsonAsync<AuditVerification>("/api/compliance/audit/verify", JsonSerializerOptions.Web);
        Assert.True(before!.Ok);

        await database.TamperAsync(sql);

        var response = await client.GetAsync("/api/compliance/audit/verify");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var after = (await response.Content.ReadFromJsonAsync<AuditVerification>(JsonSerializerOptions.Web))!;
        Assert.False(after.Ok, tampering);
        Assert.Equal(seq, after.Seq);
        Assert.Equal(failure, after.Failure);
        Assert.False(string.IsNullOrEmpty(after.Detail));
    }

    [Fact]
    public async Task A_consistent_rewrite_of_an_entry_and_its_leaf_hash_is_caught_by_the_head_written_with_it()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var host = await AuditHost.StartAsync(infrastructure, database);
        for (var i = 0; i < Entries; i++)
        {
            await host.Log.AppendAsync(AuditLogTests.Record(i));
        }

        var original = (await host.Log.EntriesAsync(3, 1)).Entries[0];
        using var forged = JsonDocument.Parse("""{"purpose":"marketing","method":"keypress","n":3}""");
        var forgedLeaf = MerkleTree.HashLeaf(AuditEntryFormat.Encode(
            3, original.OccurredAt, original.Kind, original.Actor, original.Subject, forged.RootElement));
        await database.TamperAsync(
            "UPDATE audit_entries SET details = @details, leaf_hash = @leaf WHERE seq = 3",
            new NpgsqlParameter("details", NpgsqlDbType.Jsonb) { Value = AuditEntryFormat.CanonicalDetails(forged.RootElement) },
            new NpgsqlParameter("leaf", NpgsqlDbType.Bytea) { Value = forgedLeaf });

        var verification = await host.CreateClient().GetFromJsonAsync<AuditVerification>("/api/compliance/audit/verify", JsonSerializerOptions.Web);

        Assert.False(verification!.Ok);
        Assert.Equal(3, verification.Seq);
        Assert.Equal(AuditFailure.RootMismatch, verification.Failure);
    }

    [Fact]
    public async Task Cutting_off_the_tail_with_its_heads_shows_against_a_head_kept_elsewhere()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var host = await AuditHost.StartAsync(infrastructure, database);
        for (var i = 0; i < Entries; i++)
        {
            await host.Log.AppendAsync(AuditLogTests.Record(i));
        }

        var client = host.CreateClient();
        var kept = (await client.GetFromJsonAsync<AuditHead>("/api/compliance/audit/head", JsonSerializerOptions.Web))!;

        await database.TamperAsync("DELETE FROM audit_entries WHERE seq >= 4; DELETE FROM audit_heads WHERE size > 4");

        // What is left is a consistent log of four entries: only a digest kept outside the database reveals the cut.
        Assert.True((await client.GetFromJsonAsync<AuditVerification>("/api/compliance/audit/verify", JsonSerializerOptions.Web))!.Ok);
        var now = (await client.GetFromJsonAsync<AuditHead>("/api/compliance/audit/head", JsonSerializerOptions.Web))!;
        Assert.True(now.Size < kept.Size);
        var proof = await client.GetAsync($"/api/compliance/audit/proofs/consistency?first={kept.Size}&second={kept.Size}");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, proof.StatusCode);
    }

    [Fact]
    public async Task Proofs_over_a_damaged_log_are_refused_with_409()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var host = await AuditHost.StartAsync(infrastructure, database);
        for (var i = 0; i < Entries; i++)
        {
            await host.Log.AppendAsync(AuditLogTests.Record(i));
        }

        await database.TamperAsync("DELETE FROM audit_entries WHERE seq = 1");
        var client = host.CreateClient();

        var inclusion = await client.GetAsync("/api/compliance/audit/proofs/inclusion?seq=0&size=4");
        var consistency = await client.GetAsync("/api/compliance/audit/proofs/consistency?first=2&second=6");

        foreach (var response in new[] { inclusion, consistency })
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal(1, problem.RootElement.GetProperty("seq").GetInt64());
        }
    }
}
