using VoiceKraliki.Compliance.Audit;
using static VoiceKraliki.Compliance.Tests.Audit.MerkleTreeKnownAnswerTests;

namespace VoiceKraliki.Compliance.Tests.Audit;

/// <summary>
/// For trees of many sizes from 1 to 300 (the edges around powers of two, and sizes drawn with a fixed seed): every
/// proof the tree gives verifies, and a flipped bit in a leaf, a proof element or a root makes it fail.
/// </summary>
public class MerkleTreePropertyTests
{
    private const int Seed = 6962;

    public static TheoryData<int> Sizes()
    {
        var random = new Random(Seed);
        var sizes = new SortedSet<int> { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 300 };
        while (sizes.Count < 48)
        {
            sizes.Add(random.Next(1, 301));
        }

        var data = new TheoryData<int>();
        foreach (var size in sizes)
        {
            data.Add(size);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Every_inclusion_proof_verifies_and_any_flipped_bit_fails_it(int size)
    {
        var leaves = RandomLeaves(size);
        var root = MerkleTree.RootHash(leaves);
        for (var index = 0; index < size; index++)
        {
            var proof = MerkleTree.InclusionProof(leaves, index, size);
            Assert.True(MerkleTree.VerifyInclusion(index, size, leaves[index], proof, root), $"leaf {index} of {size}");

            Assert.False(MerkleTree.VerifyInclusion(index, size, Flipped(leaves[index], index), proof, root), $"flipped leaf {index} of {size}");
            Assert.False(MerkleTree.VerifyInclusion(index, size, leaves[index], proof, Flipped(root, index)), $"flipped root, leaf {index} of {size}");
            for (var element = 0; element < proof.Count; element++)
            {
                Assert.False(
                    MerkleTree.VerifyInclusion(index, size, leaves[index], WithFlippedBit(proof, element, (index + element) % 8), root),
                    $"flipped proof[{element}], leaf {index} of {size}");
            }

            if (size > 1)
            {
                var other = (index + 1) % size;
                Assert.False(MerkleTree.VerifyInclusion(other, size, leaves[index], proof, root), $"leaf {index} claimed at {other} of {size}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void A_changed_leaf_anywhere_changes_the_root_so_old_proofs_fail(int size)
    {
        var leaves = RandomLeaves(size);
        var root = MerkleTree.RootHash(leaves);
        var random = new Random(Seed + size);
        for (var changed = 0; changed < size; changed++)
        {
            var tampered = leaves.ToList();
            tampered[changed] = Flipped(leaves[changed], changed);
            var tamperedRoot = MerkleTree.RootHash(tampered);
            Assert.NotEqual(root, tamperedRoot);

            // The tampered tree's proof of any leaf does not lead to the root that was published before.
            var index = random.Next(size);
            Assert.False(MerkleTree.VerifyInclusion(index, size, tampered[index], MerkleTree.InclusionProof(tampered, index, size), root));
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Every_consistency_proof_verifies_and_any_flipped_bit_fails_it(int size)
    {
        var leaves = RandomLeaves(size);
        var roots = new byte[size + 1][];
        var frontier = new MerkleFrontier();
        roots[0] = frontier.RootHash();
        for (var i = 0; i < size; i++)
        {
            frontier.Append(leaves[i]);
            roots[i + 1] = frontier.RootHash();
        }

        for (var first = 0; first <= size; first++)
        {
            var proof = MerkleTree.ConsistencyProof(leaves, first, size);
            Assert.True(MerkleTree.VerifyConsistency(first, size, roots[first], roots[size], proof), $"{first} → {size}");

            if (first == size && first > 0)
            {
                Assert.False(MerkleTree.VerifyConsistency(first, size, Flipped(roots[first], first), roots[size], proof));
                continue;
            }

            if (first == 0)
            {
                continue;
            }

            Assert.False(MerkleTree.VerifyConsistency(first, size, Flipped(roots[first], first), roots[size], proof), $"flipped first root {first} → {size}");
            Assert.False(MerkleTree.VerifyConsistency(first, size, roots[first], Flipped(roots[size], first), proof), $"flipped second root {first} → {size}");
            for (var element = 0; element < proof.Count; element++)
            {
                Assert.False(
                    MerkleTree.VerifyConsistency(first, size, roots[first], roots[size], WithFlippedBit(proof, element, (first + element) % 8)),
                    $"flipped proof[{element}], {first} → {size}");
            }
        }
    }

    [Fact]
    public void The_frontier_gives_the_tree_head_of_every_size_and_survives_storage()
    {
        var leaves = RandomLeaves(300);
        var frontier = new MerkleFrontier();
        for (var size = 1; size <= 300; size++)
        {
            frontier.Append(leaves[size - 1]);
            Assert.Equal(MerkleTree.RootHash(leaves, size), frontier.RootHash());

            var stored = MerkleFrontier.FromBytes(frontier.Size, frontier.ToBytes());
            Assert.Equal(frontier.RootHash(), stored.RootHash());
        }

        Assert.Throws<ArgumentException>(() => MerkleFrontier.FromBytes(3, new byte[32]));
    }

    private static List<byte[]> RandomLeaves(int count)
    {
        var random = new Random(Seed * count);
        var leaves = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            // Distinct entries: two equal leaves could stand in for each other, rightly.
            var entry = new byte[4 + random.Next(0, 60)];
            random.NextBytes(entry);
            BitConverter.TryWriteBytes(entry, i);
            leaves.Add(MerkleTree.HashLeaf(entry));
        }

        return leaves;
    }

    private static byte[] Flipped(byte[] hash, int salt)
    {
        var copy = (byte[])hash.Clone();
        copy[salt % copy.Length] ^= (byte)(1 << (salt % 8));
        return copy;
    }
}
