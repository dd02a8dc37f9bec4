using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VoiceKraliki.Compliance.Audit;
using VoiceKraliki.Compliance.Tests.Support;

namespace VoiceKraliki.Compliance.Tests.Audit;

/// <summary>
/// <c>/api/compliance/audit</c> as a compliance officer (or an auditor's tool) uses it: keep heads, fetch proofs,
/// check them with an independent verifier.
/// </summary>
[Collection(ComplianceInfrastructureCollection.Name)]
public sealed class AuditApiTests(ComplianceInfrastructure infrastructure)
{
    private const string Base = "/api/compliance/audit";
    private const int Entries = 13;

    [Fact]
    public async Task Head_entries_and_verify_describe_the_log()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var host = await AuditHost.StartAsync(infrastructure, database);
        var receipts = await AppendAsync(host, 7);
        var client = host.CreateClient();

        var head = await GetAsync<AuditHead>(client, "head");
        Assert.Equal(7, head.Size);
        Assert.Equal(receipts[^1].RootHash, head.RootHash);
        Assert.NotNull(head.ComputedAt);
        Assert.Matches("^[0-9a-f]{64}$", head.RootHash);

        var page = await GetAsync<AuditEntryPage>(client, "entries?from=0&limit=3");
        Assert.Equal([0, 1, 2], page.Entries.Select(e => e.Seq));
        Assert.Equal(3, page.Next);
        Assert.Equal(receipts[1].LeafHash, page.Entries[1].LeafHash);
        Assert.Equal(AuditKinds.ConsentGiven, page.Entries[1].Kind);
        Assert.Equal("hmac-00000001", page.Entries[1].Subject);
        Assert.Equal(1, page.Entries[1].Details.GetProperty("n").GetInt32());

        var rest = await GetAsync<AuditEntryPage>(client, "entries?from=3");
        Assert.Equal([3, 4, 5, 6], rest.Entries.Select(e => e.Seq));
        Assert.Null(rest.Next);

        var verification = await GetAsync<AuditVerification>(client, "verify");
        Assert.True(verification.Ok);
        Assert.Equal(7, verification.Size);
        Assert.Equal(head.RootHash, verification.RootHash);
        Assert.Null(verification.Seq);
    }

    [Fact]
    public async Task Inclusion_proofs_verify_against_the_heads_kept_at_append_and_fail_for_a_wrong_root()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var host = await AuditHost.StartAsync(infrastructure, database);
        var receipts = await AppendAsync(host, Entries);
        var client = host.CreateClient();

        foreach (var size in new[] { 1, 2, 5, 8, 13 })
        {
            // The head as kept by whoever received the receipt of the append that made the log this size.
            var keptRoot = Convert.FromHexString(receipts[size - 1].RootHash);
            for (var seq = 0; seq < size; seq++)
            {
                var proof = await GetAsync<AuditInclusionProof>(client, $"proofs/inclusion?seq={seq}&size={size}");
                var leaf = Convert.FromHexString(receipts[seq].LeafHash);
                var path = proof.AuditPath.Select(Convert.FromHexString).ToList();

                Assert.Equal(receipts[seq].LeafHash, proof.LeafHash);
                Assert.Equal(receipts[size - 1].RootHash, proof.RootHash);
                Assert.True(MerkleTree.VerifyInclusion(seq, size, leaf, path, keptRoot), $"entry {seq} in {size}");

                var wrongRoot = (byte[])keptRoot.Clone();
                wrongRoot[seq % 32] ^= 0x01;
                Assert.False(MerkleTree.VerifyInclusion(seq, size, leaf, path, wrongRoot), $"entry {seq} in {size}, wrong root");
                Assert.False(MerkleTree.VerifyInclusion(seq, size, MerkleTree.HashLeaf("another entry"u8), path, keptRoot));
            }
        }
    }

    [Fact]
    public async Task Consistency_proofs_verify_between_heads_kept_earlier_and_later_and_fail_for_a_wrong_root()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var host = await AuditHost.StartAsync(infrastructure, database);
        var receipts = await AppendAsync(host, Entries);
        var client = host.CreateClient();
        byte[] KeptRoot(int size) => size == 0 ? MerkleTree.EmptyRootHash() : Convert.FromHexString(receipts[size - 1].RootHash);

        for (var second = 1; second <= Entries; second++)
        {
            for (var first = 0; first <= second; first++)
            {
                var proof = await GetAsync<AuditConsistencyProof>(client, $"proofs/consistency?first={first}&second={second}");
                var nodes = proof.Proof.Select(Convert.FromHexString).ToList();

                Assert.Equal(Convert.ToHexStringLower(KeptRoot(first)), proof.FirstRootHash);
                Assert.Equal(Convert.ToHexStringLower(KeptRoot(second)), proof.SecondRootHash);
                Assert.True(MerkleTree.VerifyConsistency(first, second, KeptRoot(first), KeptRoot(second), nodes), $"{first} → {second}");

                var wrong = KeptRoot(first);
                wrong[first % 32] ^= 0x80;
                Assert.False(MerkleTree.VerifyConsistency(first, second, wrong, KeptRoot(second), nodes), $"{first} → {second}, wrong first root");
                // The empty tree is a prefix of every tree, whatever its root.
                if (first > 0 && first < second)
                {
                    var wrongSecond = KeptRoot(second);
                    wrongSecond[0] ^= 0x01;
                    Assert.False(MerkleTree.VerifyConsistency(first, second, KeptRoot(first), wrongSecond, nodes), $"{first} → {second}, wrong second root");
                }
            }
        }
    }

    [Theory]
    [InlineData("entries?from=-1", "from")]
    [InlineData("entries?from=x", "from")]
    [InlineData("entries?limit=0", "limit")]
    [InlineData("entries?limit=1001", "limit")]
    [InlineData("entries?limit=ten", "limit")]
    [InlineData("proofs/inclusion?size=3", "seq")]
    [InlineData("proofs/inclusion?seq=1", "size")]
    [InlineData("proofs/inclusion?seq=x&size=3", "seq")]
    [InlineData("proofs/inclusion?seq=%2B1&size=3", "seq")]
    [InlineData("proofs/inclusion?seq=1&seq=2&size=3", "seq")]
    [InlineData("proofs/inclusion?seq=3&size=3", "seq")]
    [InlineData("proofs/inclusion?seq=0&size=0", "size")]
    [InlineData("proofs/inclusion?seq=0&size=99999999999999999999", "size")]
    [InlineData("proofs/consistency?second=2", "first")]
    [InlineData("proofs/consistency?first=1", "second")]
    [InlineData("proofs/consistency?first=3&second=2", "first")]
    [InlineData("proofs/consistency?first=1.5&second=2", "first")]
    [InlineData("proofs/consistency?first=0&second=0", "second")]
    public async Task Bad_query_values_are_answered_with_a_400_naming_the_parameter(string query, string parameter)
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var host = await AuditHost.StartAsync(infrastructure, database);
        await AppendAsync(host, 3);

        var response = await host.CreateClient().GetAsync($"{Base}/{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(400, problem.RootElement.GetProperty("status").GetInt32());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(parameter, out _), await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("proofs/inclusion?seq=0&size=4", "size")]
    [InlineData("proofs/inclusion?seq=5&size=9000000000000000000", "size")]
    [InlineData("proofs/consistency?first=1&second=4", "second")]
    [InlineData("proofs/consistency?first=4&second=4", "second")]
    public async Task Proofs_for_trees_larger_than_the_head_are_answered_with_a_422(string query, string parameter)
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var host = await AuditHost.StartAsync(infrastructure, database);
        await AppendAsync(host, 3);

        var response = await host.CreateClient().GetAsync($"{Base}/{query}");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(422, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal(parameter, problem.RootElement.GetProperty("parameter").GetString());
        Assert.Equal(3, problem.RootElement.GetProperty("headSize").GetInt64());
    }

    [Fact]
    public async Task Only_compliance_officers_and_admins_may_read_the_log()
    {
        await using var database = await infrastructure.CreateDatabaseAsync();
        await using var host = await AuditHost.StartAsync(infrastructure, database);

        Assert.Equal(HttpStatusCode.Unauthorized, (await host.CreateClient(apiKey: null).GetAsync($"{Base}/head")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.CreateClient("vk_test_not_a_known_key_000").GetAsync($"{Base}/head")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await host.CreateClient(ComplianceInfrastructure.OperatorApiKey).GetAsync($"{Base}/verify")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.CreateClient(ComplianceInfrastructure.AdminApiKey).GetAsync($"{Base}/head")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await host.CreateClient().GetAsync($"{Base}/entries")).StatusCode);
    }

    private static async Task<List<AuditReceipt>> AppendAsync(AuditHost host, int count)
    {
        var receipts = new List<AuditReceipt>();
        for (var i = 0; i < count; i++)
        {
            receipts.Add(await host.Log.AppendAsync(AuditLogTests.Record(i)));
        }

        return receipts;
    }

    private static async Task<T> GetAsync<T>(HttpClient client, string path)
    {
        var response = await client.GetAsync($"{Base}/{path}");
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<T>(JsonSerializerOptions.Web))!;
    }
}
