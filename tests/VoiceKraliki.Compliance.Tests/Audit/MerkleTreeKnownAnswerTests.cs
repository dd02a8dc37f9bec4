using VoiceKraliki.Compliance.Audit;

namespace VoiceKraliki.Compliance.Tests.Audit;

/// <summary>
/// The RFC 6962 reference implementation's test vectors (google/certificate-transparency, kept in
/// transparency-dev/merkle's proof tests): eight leaves, the tree heads of sizes 1..8, and known audit paths and
/// consistency proofs, which this implementation must both produce and accept, and whose corruptions it must refuse.
/// </summary>
public class MerkleTreeKnownAnswerTests
{
    private static readonly string[] LeafInputs =
    [
        "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
    ];

    /// <summary>MTH of the first 1..8 leaves.</summary>
    private static readonly string[] Roots =
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];

    private const string EmptyTreeRoot = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private static readonly byte[][] LeafHashes = [.. LeafInputs.Select(h => MerkleTree.HashLeaf(Convert.FromHexString(h)))];

    /// <summary>(leaf index from 0, tree size, audit path).</summary>
    public static TheoryData<int, int, string[]> InclusionVectors => new()
    {
        { 0, 1, [] },
        {
            0, 8,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        },
        {
            5, 8,
            [
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        },
        { 2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"] },
        {
            1, 5,
            [
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        },
    };

    /// <summary>(first size, second size, consistency proof).</summary>
    public static TheoryData<int, int, string[]> ConsistencyVectors => new()
    {
        { 1, 1, [] },
        {
            1, 8,
            [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ]
        },
        {
            6, 8,
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        },
        {
            2, 5,
            [
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ]
        },
        {
            6, 7,
            [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ]
        },
    };

    [Fact]
    public void The_empty_tree_hash_is_sha256_of_the_empty_string()
    {
        Assert.Equal(EmptyTreeRoot, Hex(MerkleTree.EmptyRootHash()));
        Assert.Equal(EmptyTreeRoot, Hex(MerkleTree.RootHash([])));
        Assert.Equal(EmptyTreeRoot, Hex(new MerkleFrontier().RootHash()));
    }

    [Fact]
    public void Leaf_hashes_are_prefixed_with_0x00_and_node_hashes_with_0x01()
    {
        // A one-leaf tree's head is its leaf hash; the second leaf's hash is the first element of leaf 0's path in the tree of 8.
        Assert.Equal(Roots[0], Hex(MerkleTree.HashLeaf([])));
        Assert.Equal("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7", Hex(MerkleTree.HashLeaf([0x00])));
        Assert.Equal(Roots[1], Hex(MerkleTree.HashChildren(LeafHashes[0], LeafHashes[1])));
    }

    [Fact]
    public void The_tree_heads_of_sizes_1_to_8_match_the_reference()
    {
        var frontier = new MerkleFrontier();
        for (var size = 1; size <= 8; size++)
        {
            Assert.Equal(Roots[size - 1], Hex(MerkleTree.RootHash(LeafHashes, size)));
            frontier.Append(LeafHashes[size - 1]);
            Assert.Equal(Roots[size - 1], Hex(frontier.RootHash()));
        }
    }

    [Theory]
    [MemberData(nameof(InclusionVectors))]
    public void Audit_paths_match_the_reference_and_verify(int index, int size, string[] path)
    {
        Assert.Equal(path, MerkleTree.InclusionProof(LeafHashes, index, size).Select(Hex));
        Assert.True(MerkleTree.VerifyInclusion(index, size, LeafHashes[index], Bytes(path), Bytes(Roots[size - 1])));
    }

    [Theory]
    [MemberData(nameof(InclusionVectors))]
    public void Corrupted_audit_paths_are_refused(int index, int size, string[] path)
    {
        var root = Bytes(Roots[size - 1]);
        var leaf = LeafHashes[index];
        var proof = Bytes(path);
        var someHash = Bytes("abacaba000000000000000000000000000000000000000000060061e00123456");

        var probes = new List<(string What, long Index, long Size, byte[] Leaf, IReadOnlyList<byte[]> Proof, byte[] Root)>
        {
            ("index - 1", index - 1, size, leaf, proof, root),
            ("index + 1", index + 1, size, leaf, proof, root),
            ("index ^ 2", index ^ 2, size, leaf, proof, root),
            ("size * 2", index, size * 2, leaf, proof, root),
            ("size / 2", index, size / 2, leaf, proof, root),
            ("wrong leaf", index, size, MerkleTree.HashLeaf("WrongLeaf"u8), proof, root),
            ("empty tree root", index, size, leaf, proof, Bytes(EmptyTreeRoot)),
            ("some other root", index, size, leaf, proof, someHash),
            ("trailing garbage", index, size, leaf, [.. proof, []], root),
            ("trailing root", index, size, leaf, [.. proof, root], root),
            ("preceding garbage", index, size, leaf, [[], .. proof], root),
            ("preceding root", index, size, leaf, [root, .. proof], root),
        };
        for (var i = 0; i < proof.Count; i++)
        {
            probes.Add(($"proof[{i}] with a flipped bit", index, size, leaf, WithFlippedBit(proof, i), root));
        }

        if (proof.Count > 0)
        {
            probes.Add(("last element removed", index, size, leaf, proof.Take(proof.Count - 1).ToList(), root));
        }

        if (proof.Count > 1)
        {
            probes.Add(("element inserted", index, size, leaf, [proof[0], someHash, .. proof.Skip(1)], root));
        }

        var accepted = probes.Where(p => MerkleTree.VerifyInclusion(p.Index, p.Size, p.Leaf, p.Proof, p.Root)).Select(p => p.What).ToList();
        Assert.Empty(accepted);
    }

    [Theory]
    [MemberData(nameof(ConsistencyVectors))]
    public void Consistency_proofs_match_the_reference_and_verify(int first, int second, string[] proof)
    {
        Assert.Equal(proof, MerkleTree.ConsistencyProof(LeafHashes, first, second).Select(Hex));
        Assert.True(MerkleTree.VerifyConsistency(first, second, Bytes(Roots[first - 1]), Bytes(Roots[second - 1]), Bytes(proof)));
    }

    [Theory]
    [MemberData(nameof(ConsistencyVectors))]
    public void Corrupted_consistency_proofs_are_refused(int first, int second, string[] path)
    {
        if (path.Length == 0)
        {
            return; // Equal sizes: nothing to corrupt but the roots, which Edge_cases_of_consistency covers.
        }

        var root1 = Bytes(Roots[first - 1]);
        var root2 = Bytes(Roots[second - 1]);
        var proof = Bytes(path);
        var wrongRoot = MerkleTree.HashLeaf("WrongRoot"u8);

        var probes = new List<(string What, long First, long Second, byte[] Root1, byte[] Root2, IReadOnlyList<byte[]> Proof)>
        {
            ("first - 1", first - 1, second, root1, root2, proof),
            ("first + 1", first + 1, second, root1, root2, proof),
            ("first ^ 2", first ^ 2, second, root1, root2, proof),
            ("second * 2", first, second * 2, root1, root2, proof),
            ("second / 2", first, second / 2, root1, root2, proof),
            ("wrong first root", first, second, wrongRoot, root2, proof),
            ("wrong second root", first, second, root1, wrongRoot, proof),
            ("swapped roots", first, second, root2, root1, proof),
            ("empty proof", first, second, root1, root2, []),
            ("trailing garbage", first, second, root1, root2, [.. proof, []]),
            ("trailing first root", first, second, root1, root2, [.. proof, root1]),
            ("trailing second root", first, second, root1, root2, [.. proof, root2]),
            ("preceding garbage", first, second, root1, root2, [[], .. proof]),
            ("preceding first root", first, second, root1, root2, [root1, .. proof]),
            ("preceding second root", first, second, root1, root2, [root2, .. proof]),
            ("preceding proof[0]", first, second, root1, root2, [proof[0], .. proof]),
            ("truncated", first, second, root1, root2, proof.Take(proof.Count - 1).ToList()),
        };
        for (var i = 0; i < proof.Count; i++)
        {
            probes.Add(($"proof[{i}] with a flipped bit", first, second, root1, root2, WithFlippedBit(proof, i)));
        }

        var accepted = probes.Where(p => MerkleTree.VerifyConsistency(p.First, p.Second, p.Root1, p.Root2, p.Proof)).Select(p => p.What).ToList();
        Assert.Empty(accepted);
    }

    [Fact]
    public void Edge_cases_of_consistency()
    {
        var empty = MerkleTree.EmptyRootHash();
        var root1 = Bytes(Roots[0]);
        var root2 = Bytes(Roots[1]);

        // The empty tree is a prefix of every tree, with an empty proof.
        Assert.True(MerkleTree.VerifyConsistency(0, 0, empty, empty, []));
        Assert.True(MerkleTree.VerifyConsistency(0, 2, empty, root2, []));
        Assert.False(MerkleTree.VerifyConsistency(0, 2, root1, root2, []));
        Assert.False(MerkleTree.VerifyConsistency(0, 0, empty, empty, [empty]));
        Assert.False(MerkleTree.VerifyConsistency(0, 2, empty, root2, [empty]));
        // Equal sizes need equal roots and an empty proof.
        Assert.True(MerkleTree.VerifyConsistency(1, 1, root1, root1, []));
        Assert.False(MerkleTree.VerifyConsistency(1, 1, root1, root2, []));
        Assert.False(MerkleTree.VerifyConsistency(1, 1, root1, root1, [root1]));
        // No time travel, no empty proof between different sizes, no malformed roots.
        Assert.False(MerkleTree.VerifyConsistency(2, 1, root2, root1, []));
        Assert.False(MerkleTree.VerifyConsistency(-1, 1, empty, root1, []));
        Assert.False(MerkleTree.VerifyConsistency(1, 2, root1, root2, []));
        Assert.False(MerkleTree.VerifyConsistency(1, 2, root1[..31], root2, [LeafHashes[1]]));
        Assert.True(MerkleTree.VerifyConsistency(1, 2, root1, root2, [LeafHashes[1]]));
    }

    [Fact]
    public void Edge_cases_of_inclusion()
    {
        var leaf = LeafHashes[0];
        Assert.True(MerkleTree.VerifyInclusion(0, 1, leaf, [], leaf));
        Assert.False(MerkleTree.VerifyInclusion(0, 0, leaf, [], leaf));
        Assert.False(MerkleTree.VerifyInclusion(1, 1, leaf, [], leaf));
        Assert.False(MerkleTree.VerifyInclusion(-1, 1, leaf, [], leaf));
        Assert.False(MerkleTree.VerifyInclusion(0, 1, leaf, [], []));
        Assert.False(MerkleTree.VerifyInclusion(0, 1, [], [], leaf));
        Assert.False(MerkleTree.VerifyInclusion(0, 1, leaf, [], MerkleTree.EmptyRootHash()));
    }

    [Fact]
    public void Proofs_are_asked_only_for_trees_the_leaves_make()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.InclusionProof(LeafHashes, 0, 9));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.InclusionProof(LeafHashes, 3, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.InclusionProof(LeafHashes, -1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.ConsistencyProof(LeafHashes, 4, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => MerkleTree.ConsistencyProof(LeafHashes, 1, 9));
        Assert.Throws<ArgumentException>(() => MerkleTree.RootHash([new byte[31]]));
        Assert.Empty(MerkleTree.ConsistencyProof(LeafHashes, 0, 8));
        Assert.Empty(MerkleTree.ConsistencyProof(LeafHashes, 8, 8));
    }

    internal static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    internal static byte[] Bytes(string hex) => Convert.FromHexString(hex);

    internal static List<byte[]> Bytes(IEnumerable<string> hexes) => [.. hexes.Select(Convert.FromHexString)];

    internal static List<byte[]> WithFlippedBit(IReadOnlyList<byte[]> proof, int element, int bit = 3)
    {
        var copy = proof.Select(p => (byte[])p.Clone()).ToList();
        copy[element][0] ^= (byte)(1 << bit);
        return copy;
    }
}
