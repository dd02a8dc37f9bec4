using System.Numerics;
using System.Security.Cryptography;

namespace VoiceKraliki.Compliance.Audit;

/// <summary>
/// The Merkle tree of RFC 6962 §2.1 over SHA-256, worked from leaf hashes: the tree head (MTH), audit paths
/// (inclusion proofs, §2.1.1) and consistency proofs (§2.1.2), and their verifiers as RFC 9162 §2.1.3.2 and
/// §2.1.4.2 give them. Proof elements are listed from the leaf (or the older tree) upwards, as both RFCs do.
/// </summary>
public static class MerkleTree
{
    public const int HashSize = 32;

    private const byte LeafPrefix = 0x00;
    private const byte NodePrefix = 0x01;

    private static readonly byte[] EmptyRoot = SHA256.HashData([]);

    /// <summary>MTH({}) = SHA-256 of the empty string.</summary>
    public static byte[] EmptyRootHash() => (byte[])EmptyRoot.Clone();

    /// <summary>SHA-256(0x00 ‖ entry).</summary>
    public static byte[] HashLeaf(ReadOnlySpan<byte> entry)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData([LeafPrefix]);
        sha.AppendData(entry);
        return sha.GetHashAndReset();
    }

    /// <summary>SHA-256(0x01 ‖ left ‖ right).</summary>
    public static byte[] HashChildren(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[1 + (2 * HashSize)];
        if (left.Length != HashSize || right.Length != HashSize)
        {
            throw new ArgumentException($"A node's children are {HashSize}-byte hashes.");
        }

        buffer[0] = NodePrefix;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + HashSize)..]);
        return SHA256.HashData(buffer);
    }

    /// <summary>MTH of all <paramref name="leafHashes"/>.</summary>
    public static byte[] RootHash(IReadOnlyList<byte[]> leafHashes) => RootHash(leafHashes, leafHashes.Count);

    /// <summary>MTH(D[0:treeSize]) of the first <paramref name="treeSize"/> leaf hashes.</summary>
    public static byte[] RootHash(IReadOnlyList<byte[]> leafHashes, long treeSize)
    {
        var size = CheckedSize(leafHashes, treeSize, nameof(treeSize));
        return size == 0 ? EmptyRootHash() : Node(leafHashes, 0, size);
    }

    /// <summary>PATH(leafIndex, D[treeSize]): the audit path of one leaf in the tree of the first <paramref name="treeSize"/> leaves.</summary>
    public static IReadOnlyList<byte[]> InclusionProof(IReadOnlyList<byte[]> leafHashes, long leafIndex, long treeSize)
    {
        var size = CheckedSize(leafHashes, treeSize, nameof(treeSize));
        ArgumentOutOfRangeException.ThrowIfNegative(leafIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(leafIndex, treeSize);

        var proof = new List<byte[]>();
        Path(leafHashes, (int)leafIndex, 0, size, proof);
        return proof;
    }

    /// <summary>
    /// PROOF(first, D[second]): proves that the tree of the first <paramref name="first"/> leaves is a prefix of the
    /// tree of the first <paramref name="second"/>. Empty when <paramref name="first"/> is 0 or equals <paramref name="second"/>.
    /// </summary>
    public static IReadOnlyList<byte[]> ConsistencyProof(IReadOnlyList<byte[]> leafHashes, long first, long second)
    {
        var size = CheckedSize(leafHashes, second, nameof(second));
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(first, second);

        var proof = new List<byte[]>();
        if (first > 0 && first < second)
        {
            SubProof(leafHashes, (int)first, 0, size, complete: true, proof);
        }

        return proof;
    }

    /// <summary>RFC 9162 §2.1.3.2: does <paramref name="proof"/> lead from the leaf to <paramref name="rootHash"/>?</summary>
    public static bool VerifyInclusion(
        long leafIndex, long treeSize, ReadOnlySpan<byte> leafHash, IReadOnlyList<byte[]> proof, ReadOnlySpan<byte> rootHash)
    {
        if (leafIndex < 0 || leafIndex >= treeSize || leafHash.Length != HashSize || rootHash.Length != HashSize || !AllHashes(proof))
        {
            return false;
        }

        var fn = leafIndex;
        var sn = treeSize - 1;
        var r = leafHash.ToArray();
        foreach (var p in proof)
        {
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                r = HashChildren(p, r);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                r = HashChildren(r, p);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0 && CryptographicOperations.FixedTimeEquals(r, rootHash);
    }

    /// <summary>
    /// RFC 9162 §2.1.4.2: is the tree with root <paramref name="firstRoot"/> a prefix of the one with root
    /// <paramref name="secondRoot"/>? Equal sizes need equal roots and an empty proof; size 0 needs the empty-tree
    /// root and an empty proof.
    /// </summary>
    public static bool VerifyConsistency(
        long first, long second, ReadOnlySpan<byte> firstRoot, ReadOnlySpan<byte> secondRoot, IReadOnlyList<byte[]> proof)
    {
        if (first < 0 || second < first || firstRoot.Length != HashSize || secondRoot.Length != HashSize || !AllHashes(proof))
        {
            return false;
        }

        if (first == 0)
        {
            return proof.Count == 0 && CryptographicOperations.FixedTimeEquals(firstRoot, EmptyRoot);
        }

        if (first == second)
        {
            return proof.Count == 0 && CryptographicOperations.FixedTimeEquals(firstRoot, secondRoot);
        }

        if (proof.Count == 0)
        {
            return false;
        }

        // A power-of-two first tree is a node of the second; its root starts the path.
        IEnumerable<byte[]> path = BitOperations.IsPow2(first) ? proof.Prepend(firstRoot.ToArray()) : proof;
        using var nodes = path.GetEnumerator();
        nodes.MoveNext();

        var fn = first - 1;
        var sn = second - 1;
        while ((fn & 1) == 1)
        {
            fn >>= 1;
            sn >>= 1;
        }

        var fr = nodes.Current;
        var sr = nodes.Current;
        while (nodes.MoveNext())
        {
            var c = nodes.Current;
            if (sn == 0)
            {
                return false;
            }

            if ((fn & 1) == 1 || fn == sn)
            {
                fr = HashChildren(c, fr);
                sr = HashChildren(c, sr);
                while ((fn & 1) == 0 && fn != 0)
                {
                    fn >>= 1;
                    sn >>= 1;
                }
            }
            else
            {
                sr = HashChildren(sr, c);
            }

            fn >>= 1;
            sn >>= 1;
        }

        return sn == 0
            && CryptographicOperations.FixedTimeEquals(fr, firstRoot)
            && CryptographicOperations.FixedTimeEquals(sr, secondRoot);
    }

    /// <summary>The largest power of two smaller than <paramref name="n"/> (n ≥ 2): where RFC 6962 splits a tree.</summary>
    internal static int Split(int n) => 1 << BitOperations.Log2((uint)(n - 1));

    private static byte[] Mth(IReadOnlyList<byte[]> leaves, int start, int count)
    {
        if (count == 1)
        {
            return leaves[start];
        }

        var k = Split(count);
        return HashChildren(Mth(leaves, start, k), Mth(leaves, start + k, count - k));
    }

    /// <summary>A subtree's root that the caller owns (a one-leaf subtree's root is the caller's leaf hash).</summary>
    private static byte[] Node(IReadOnlyList<byte[]> leaves, int start, int count) =>
        count == 1 ? (byte[])leaves[start].Clone() : Mth(leaves, start, count);

    private static void Path(IReadOnlyList<byte[]> leaves, int m, int start, int count, List<byte[]> proof)
    {
        if (count <= 1)
        {
            return;
        }

        var k = Split(count);
        if (m < k)
        {
            Path(leaves, m, start, k, proof);
            proof.Add(Node(leaves, start + k, count - k));
        }
        else
        {
            Path(leaves, m - k, start + k, count - k, proof);
            proof.Add(Node(leaves, start, k));
        }
    }

    private static void SubProof(IReadOnlyList<byte[]> leaves, int m, int start, int count, bool complete, List<byte[]> proof)
    {
        if (m == count)
        {
            // The old tree's root is a node here; a verifier that has it needs nothing for this subtree.
            if (!complete)
            {
                proof.Add(Node(leaves, start, count));
            }

            return;
        }

        var k = Split(count);
        if (m <= k)
        {
            SubProof(leaves, m, start, k, complete, proof);
            proof.Add(Node(leaves, start + k, count - k));
        }
        else
        {
            SubProof(leaves, m - k, start + k, count - k, complete: false, proof);
            proof.Add(Node(leaves, start, k));
        }
    }

    private static int CheckedSize(IReadOnlyList<byte[]> leafHashes, long treeSize, string name)
    {
        ArgumentNullException.ThrowIfNull(leafHashes);
        if (treeSize < 0 || treeSize > leafHashes.Count)
        {
            throw new ArgumentOutOfRangeException(name, treeSize, $"The tree size must be from 0 to the {leafHashes.Count} leaf hashes given.");
        }

        for (var i = 0; i < treeSize; i++)
        {
            if (leafHashes[i] is not { Length: HashSize })
            {
                throw new ArgumentException($"Leaf hash {i} is not a {HashSize}-byte hash.", nameof(leafHashes));
            }
        }

        return (int)treeSize;
    }

    private static bool AllHashes(IReadOnlyList<byte[]> proof)
    {
        foreach (var p in proof)
        {
            if (p is not { Length: HashSize })
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// The right edge of a Merkle tree: the roots of its perfect subtrees, largest first (one per set bit of the size).
/// Enough to append a leaf and compute the new MTH in O(log n) without the earlier leaves.
/// </summary>
public sealed class MerkleFrontier
{
    private readonly List<byte[]> _nodes;

    public MerkleFrontier()
        : this(0, [])
    {
    }

    private MerkleFrontier(long size, List<byte[]> nodes)
    {
        Size = size;
        _nodes = nodes;
    }

    public long Size { get; private set; }

    public void Append(byte[] leafHash)
    {
        if (leafHash is not { Length: MerkleTree.HashSize })
        {
            throw new ArgumentException($"A leaf hash is {MerkleTree.HashSize} bytes.", nameof(leafHash));
        }

        var carry = leafHash;
        // Each trailing set bit of the size is a perfect subtree as large as the carry: merge them.
        for (var size = Size; (size & 1) == 1; size >>= 1)
        {
            carry = MerkleTree.HashChildren(_nodes[^1], carry);
            _nodes.RemoveAt(_nodes.Count - 1);
        }

        _nodes.Add(carry);
        Size++;
    }

    /// <summary>MTH of the leaves appended so far: the subtree roots folded from the right.</summary>
    public byte[] RootHash()
    {
        if (_nodes.Count == 0)
        {
            return MerkleTree.EmptyRootHash();
        }

        var root = _nodes[^1];
        for (var i = _nodes.Count - 2; i >= 0; i--)
        {
            root = MerkleTree.HashChildren(_nodes[i], root);
        }

        return (byte[])root.Clone();
    }

    /// <summary>The subtree roots concatenated, largest first.</summary>
    public byte[] ToBytes()
    {
        var bytes = new byte[_nodes.Count * MerkleTree.HashSize];
        for (var i = 0; i < _nodes.Count; i++)
        {
            _nodes[i].CopyTo(bytes, i * MerkleTree.HashSize);
        }

        return bytes;
    }

    public static MerkleFrontier FromBytes(long size, ReadOnlySpan<byte> bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        var count = BitOperations.PopCount((ulong)size);
        if (bytes.Length != count * MerkleTree.HashSize)
        {
            throw new ArgumentException($"A frontier of a tree of {size} leaves is {count} hashes.", nameof(bytes));
        }

        var nodes = new List<byte[]>(count);
        for (var i = 0; i < count; i++)
        {
            nodes.Add(bytes.Slice(i * MerkleTree.HashSize, MerkleTree.HashSize).ToArray());
        }

        return new MerkleFrontier(size, nodes);
    }
}
