using System.Collections.Concurrent;
using System.Data;
using System.Text.Json;
using System.Text.RegularExpressions;
using Npgsql;
using NpgsqlTypes;

namespace VoiceKraliki.Compliance.Audit;

/// <summary>
/// The compliance service's tamper-evident audit log: append-only rows in <c>audit_entries</c>, each the leaf of an
/// RFC 6962 Merkle tree whose head after every append is kept in <c>audit_heads</c>. Appends are serialized across
/// processes by a transaction-scoped advisory lock, so the log never forks. Proofs let someone who kept a head check
/// that an entry is in the log and that the log only grew since.
/// </summary>
public sealed partial class AuditLog(NpgsqlDataSource dataSource, TimeProvider timeProvider, ILogger<AuditLog> logger) : IDisposable
{
    /// <summary>The advisory lock every appender of a compliance database takes ("VKAUDIT0").</summary>
    public const long AppendLockKey = 0x564B_4155_4449_5430;

    /// <summary>How many queued appends one transaction writes at most.</summary>
    public const int MaxGroupSize = 256;

    private const int MaxKindLength = 100;
    private const int MaxActorLength = 200;
    private const int MaxSubjectLength = 200;

    // Appends of this process queue here and are written by whichever caller holds the gate, many per transaction
    // (group commit): one lock wait, one head read and one commit for the lot, instead of a pooled connection per
    // append blocked on the advisory lock.
    private readonly ConcurrentQueue<PendingAppend> _queue = new();
    private readonly SemaphoreSlim _appendGate = new(1, 1);

    /// <summary>
    /// Appends <paramref name="record"/> in a transaction of this log's own (shared with other appends queued at the
    /// same moment) and returns once it is committed. Cancelling stops the wait only while the record is still
    /// queued; once a transaction holds it, the call returns its outcome.
    /// </summary>
    public async Task<AuditReceipt> AppendAsync(AuditRecord record, CancellationToken cancellationToken = default)
    {
        var pending = new PendingAppend(record, Validate(record));
        _queue.Enqueue(pending);
        try
        {
            while (!pending.Result.Task.IsCompleted)
            {
                await _appendGate.WaitAsync(cancellationToken);
                try
                {
                    if (!pending.Result.Task.IsCompleted)
                    {
                        await WriteQueuedAsync();
                    }
                }
                finally
                {
                    _appendGate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            if (pending.TryAbandon())
            {
                throw;
            }

            // A writer holds the record already: its outcome is the caller's.
        }

        return await pending.Result.Task;
    }

    /// <summary>
    /// Appends <paramref name="record"/> inside the caller's transaction, so the entry exists exactly when the caller's
    /// own writes do. The audit lock is held until that transaction ends: keep it short. The transaction must be
    /// READ COMMITTED (a REPEATABLE READ snapshot could predate the latest append). The receipt holds only if the
    /// caller commits. Until then, an <see cref="AppendAsync(AuditRecord, CancellationToken)"/> from the same caller
    /// would wait for that very lock: append everything of the transaction through this overload.
    /// </summary>
    public Task<AuditReceipt> AppendAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, AuditRecord record, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(transaction);
        if (!ReferenceEquals(transaction.Connection, connection))
        {
            throw new ArgumentException("The transaction is not one of this connection (or has ended).", nameof(transaction));
        }

        if (transaction.IsolationLevel is IsolationLevel.RepeatableRead or IsolationLevel.Serializable or IsolationLevel.Snapshot)
        {
            throw new ArgumentException("Audit entries are appended in READ COMMITTED transactions only.", nameof(transaction));
        }

        return AppendInTransactionAsync(connection, transaction, new PendingAppend(record, Validate(record)), cancellationToken);
    }

    /// <summary>The latest head; for an empty log size 0 and the empty tree's root.</summary>
    public async Task<AuditHead> HeadAsync(CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT size, root_hash, computed_at FROM audit_heads ORDER BY size DESC LIMIT 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new AuditHead(reader.GetInt64(0), Hex(reader.GetFieldValue<byte[]>(1)), reader.GetFieldValue<DateTimeOffset>(2))
            : new AuditHead(0, Hex(MerkleTree.EmptyRootHash()), null);
    }

    /// <summary>Up to <paramref name="limit"/> entries from seq <paramref name="from"/> on, in seq order.</summary>
    public async Task<AuditEntryPage> EntriesAsync(long from, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(from);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);

        await using var command = dataSource.CreateCommand(
            """
            SELECT seq, occurred_at, kind, actor, subject, details::text, leaf_hash
            FROM audit_entries WHERE seq >= $1 ORDER BY seq LIMIT $2
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = from });
        // One more than a page tells whether there is a next one.
        command.Parameters.Add(new NpgsqlParameter { Value = (long)limit + 1 });
        var entries = new List<AuditEntry>(Math.Min(limit, 1024));
        var more = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (entries.Count == limit)
            {
                more = true;
                break;
            }

            using var details = JsonDocument.Parse(reader.GetString(5));
            entries.Add(new AuditEntry(
                reader.GetInt64(0),
                reader.GetFieldValue<DateTimeOffset>(1),
                reader.GetString(2),
                reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                details.RootElement.Clone(),
                Hex(reader.GetFieldValue<byte[]>(6))));
        }

        return new AuditEntryPage(entries, more ? entries[^1].Seq + 1 : null);
    }

    /// <summary>
    /// Recomputes every entry's leaf hash from its columns and the tree head after every entry, in seq order, and
    /// compares them with the stored leaf hashes and heads. Stops at the first entry that does not match.
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        // One statement, one snapshot: entries and heads are read as of the same moment.
        await using var command = dataSource.CreateCommand(
            """
            SELECT e.seq, e.occurred_at, e.kind, e.actor, e.subject, e.details::text, e.leaf_hash, h.size, h.root_hash
            FROM audit_entries e
            FULL JOIN audit_heads h ON h.size = e.seq + 1
            ORDER BY COALESCE(e.seq, h.size - 1)
            """);
        var frontier = new MerkleFrontier();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var expected = frontier.Size;
                var hasEntry = !reader.IsDBNull(0);
                var hasHead = !reader.IsDBNull(7);
                var position = hasEntry ? reader.GetInt64(0) : reader.GetInt64(7) - 1;
                if (position != expected || !hasEntry)
                {
                    return Failed(frontier, expected, AuditFailure.MissingEntry, position != expected
                        ? $"Entry {expected} is missing: the next stored entry or head is for entry {position}."
                        : $"Entry {expected} is missing, though the head of size {expected + 1} covers it.");
                }

                byte[] leafHash;
                try
                {
                    var details = reader.GetString(5);
                    leafHash = MerkleTree.HashLeaf(AuditEntryFormat.EncodeCanonical(
                        position,
                        reader.GetFieldValue<DateTimeOffset>(1),
                        reader.GetString(2),
                        reader.GetString(3),
                        reader.IsDBNull(4) ? null : reader.GetString(4),
                        AuditEntryFormat.CanonicalDetails(ParseDetails(details))));
                }
                catch (Exception e) when (e is ArgumentException or JsonException)
                {
                    return Failed(frontier, position, AuditFailure.UnreadableEntry, $"Entry {position} cannot be put in canonical form: {e.Message}");
                }

                if (!leafHash.AsSpan().SequenceEqual(reader.GetFieldValue<byte[]>(6)))
                {
                    return Failed(frontier, position, AuditFailure.LeafHashMismatch,
                        $"Entry {position} does not hash to its stored leaf hash: its columns or its leaf hash were changed.");
                }

                frontier.Append(leafHash);
                if (!hasHead)
                {
                    return Failed(frontier, position, AuditFailure.MissingHead, $"The head of size {position + 1}, written with entry {position}, is missing.");
                }

                if (!frontier.RootHash().AsSpan().SequenceEqual(reader.GetFieldValue<byte[]>(8)))
                {
                    return Failed(frontier, position, AuditFailure.RootMismatch,
                        $"The stored head of size {position + 1} does not match the entries up to {position}: the log was rewritten from entry {position} or the head was changed.");
                }
            }
        }

        var verification = new AuditVerification(true, frontier.Size, Hex(frontier.RootHash()), null, null, null, timeProvider.GetUtcNow());
        LogVerified(logger, verification.Size, verification.RootHash);
        return verification;
    }

    /// <summary>
    /// The audit path of entry <paramref name="seq"/> in the tree of the first <paramref name="treeSize"/> entries, from
    /// the stored leaf hashes, with the root of the stored head of that size.
    /// </summary>
    /// <exception cref="AuditTreeSizeException">The log is smaller than <paramref name="treeSize"/>.</exception>
    /// <exception cref="AuditLogDamagedException">An entry or head the proof needs is missing.</exception>
    public async Task<AuditInclusionProof> InclusionProofAsync(long seq, long treeSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seq);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(treeSize, seq);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await EnsureWithinHeadAsync(connection, transaction, treeSize, cancellationToken);
        var root = await HeadRootAsync(connection, transaction, treeSize, cancellationToken);
        var leaves = await LeafHashesAsync(connection, transaction, treeSize, cancellationToken);
        var path = MerkleTree.InclusionProof(leaves, seq, treeSize);
        return new AuditInclusionProof(seq, treeSize, Hex(leaves[(int)seq]), [.. path.Select(Hex)], Hex(root));
    }

    /// <summary>
    /// The proof that the log of <paramref name="first"/> entries is a prefix of the log of <paramref name="second"/>,
    /// from the stored leaf hashes, with the roots of the stored heads of both sizes (size 0: the empty tree's).
    /// </summary>
    /// <exception cref="AuditTreeSizeException">The log is smaller than <paramref name="second"/>.</exception>
    /// <exception cref="AuditLogDamagedException">An entry or head the proof needs is missing.</exception>
    public async Task<AuditConsistencyProof> ConsistencyProofAsync(long first, long second, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfLessThan(second, first);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await EnsureWithinHeadAsync(connection, transaction, second, cancellationToken);
        var firstRoot = await HeadRootAsync(connection, transaction, first, cancellationToken);
        var secondRoot = await HeadRootAsync(connection, transaction, second, cancellationToken);
        IReadOnlyList<byte[]> proof = [];
        if (first > 0 && first < second)
        {
            var leaves = await LeafHashesAsync(connection, transaction, second, cancellationToken);
            proof = MerkleTree.ConsistencyProof(leaves, first, second);
        }

        return new AuditConsistencyProof(first, second, Hex(firstRoot), Hex(secondRoot), [.. proof.Select(Hex)]);
    }

    public void Dispose() => _appendGate.Dispose();

    private async Task<AuditReceipt> AppendInTransactionAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, PendingAppend append, CancellationToken cancellationToken)
    {
        var receipt = (await AppendCoreAsync(connection, transaction, [append], cancellationToken))[0];
        LogAppended(logger, receipt.Seq, append.Record.Kind);
        return receipt;
    }

    /// <summary>Writes the queued appends (up to <see cref="MaxGroupSize"/>) in one transaction and completes their callers.</summary>
    private async Task WriteQueuedAsync()
    {
        var group = new List<PendingAppend>();
        while (group.Count < MaxGroupSize && _queue.TryDequeue(out var pending))
        {
            if (pending.TryClaim())
            {
                group.Add(pending);
            }
        }

        if (group.Count == 0)
        {
            return;
        }

        try
        {
            // Not any one caller's token: the transaction is every caller's in the group.
            await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, CancellationToken.None);
            var receipts = await AppendCoreAsync(connection, transaction, group, CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
            for (var i = 0; i < group.Count; i++)
            {
                LogAppended(logger, receipts[i].Seq, group[i].Record.Kind);
                group[i].Result.TrySetResult(receipts[i]);
            }
        }
        catch (Exception e)
        {
            LogAppendFailed(logger, e, group.Count);
            foreach (var pending in group)
            {
                pending.Result.TrySetException(e);
            }
        }
    }

    private async Task<IReadOnlyList<AuditReceipt>> AppendCoreAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<PendingAppend> appends, CancellationToken cancellationToken)
    {
        long size;
        MerkleFrontier frontier;
        // The lock is held to the end of the transaction; the head read after it is the latest committed one.
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            var lockCommand = new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock($1)");
            lockCommand.Parameters.Add(new NpgsqlParameter { Value = AppendLockKey });
            batch.BatchCommands.Add(lockCommand);
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT size, frontier FROM audit_heads ORDER BY size DESC LIMIT 1"));
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                size = reader.GetInt64(0);
                frontier = MerkleFrontier.FromBytes(size, reader.GetFieldValue<byte[]>(1));
            }
            else
            {
                size = 0;
                frontier = new MerkleFrontier();
            }
        }

        var receipts = new List<AuditReceipt>(appends.Count);
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            foreach (var append in appends)
            {
                var record = append.Record;
                var seq = size + receipts.Count;
                var occurredAt = AuditEntryFormat.Truncate(timeProvider.GetUtcNow());
                var leafHash = MerkleTree.HashLeaf(
                    AuditEntryFormat.EncodeCanonical(seq, occurredAt, record.Kind, record.Actor, record.Subject, append.CanonicalDetails));
                frontier.Append(leafHash);
                var root = frontier.RootHash();

                var insertEntry = new NpgsqlBatchCommand(
                    """
                    INSERT INTO audit_entries (seq, occurred_at, kind, actor, subject, details, leaf_hash)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)
                    """);
                insertEntry.Parameters.Add(new NpgsqlParameter { Value = seq });
                insertEntry.Parameters.Add(new NpgsqlParameter { Value = occurredAt, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                insertEntry.Parameters.Add(new NpgsqlParameter { Value = record.Kind, NpgsqlDbType = NpgsqlDbType.Text });
                insertEntry.Parameters.Add(new NpgsqlParameter { Value = record.Actor, NpgsqlDbType = NpgsqlDbType.Text });
                insertEntry.Parameters.Add(new NpgsqlParameter { Value = (object?)record.Subject ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                insertEntry.Parameters.Add(new NpgsqlParameter { Value = append.CanonicalDetails, NpgsqlDbType = NpgsqlDbType.Jsonb });
                insertEntry.Parameters.Add(new NpgsqlParameter { Value = leafHash, NpgsqlDbType = NpgsqlDbType.Bytea });
                batch.BatchCommands.Add(insertEntry);

                // A head after every entry: verification then names the first entry a rewrite touched.
                var insertHead = new NpgsqlBatchCommand(
                    "INSERT INTO audit_heads (size, root_hash, frontier, computed_at) VALUES ($1, $2, $3, $4)");
                insertHead.Parameters.Add(new NpgsqlParameter { Value = seq + 1 });
                insertHead.Parameters.Add(new NpgsqlParameter { Value = root, NpgsqlDbType = NpgsqlDbType.Bytea });
                insertHead.Parameters.Add(new NpgsqlParameter { Value = frontier.ToBytes(), NpgsqlDbType = NpgsqlDbType.Bytea });
                insertHead.Parameters.Add(new NpgsqlParameter { Value = occurredAt, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                batch.BatchCommands.Add(insertHead);

                receipts.Add(new AuditReceipt(seq, occurredAt, Hex(leafHash), seq + 1, Hex(root)));
            }

            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        return receipts;
    }

    private static async Task EnsureWithinHeadAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long treeSize, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT COALESCE(max(size), 0) FROM audit_heads", connection, transaction);
        var headSize = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        if (treeSize > headSize)
        {
            throw new AuditTreeSizeException(treeSize, headSize);
        }
    }

    private static async Task<byte[]> HeadRootAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long treeSize, CancellationToken cancellationToken)
    {
        if (treeSize == 0)
        {
            return MerkleTree.EmptyRootHash();
        }

        await using var command = new NpgsqlCommand("SELECT root_hash FROM audit_heads WHERE size = $1", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = treeSize });
        return await command.ExecuteScalarAsync(cancellationToken) as byte[]
            ?? throw new AuditLogDamagedException(treeSize - 1, $"The head of size {treeSize} is missing.");
    }

    private static async Task<List<byte[]>> LeafHashesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, long treeSize, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT seq, leaf_hash FROM audit_entries WHERE seq < $1 ORDER BY seq", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter { Value = treeSize });
        var leaves = new List<byte[]>((int)Math.Min(treeSize, 1 << 20));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var hash = reader.GetFieldValue<byte[]>(1);
            if (reader.GetInt64(0) != leaves.Count || hash.Length != MerkleTree.HashSize)
            {
                break;
            }

            leaves.Add(hash);
        }

        if (leaves.Count < treeSize)
        {
            throw new AuditLogDamagedException(leaves.Count, $"Entry {leaves.Count} is missing or its leaf hash is malformed.");
        }

        return leaves;
    }

    private AuditVerification Failed(MerkleFrontier verified, long seq, AuditFailure failure, string detail)
    {
        LogVerificationFailed(logger, seq, failure, detail);
        return new AuditVerification(false, verified.Size, Hex(verified.RootHash()), seq, failure, detail, timeProvider.GetUtcNow());
    }

    private static JsonElement ParseDetails(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>Checks the record and returns its canonical details.</summary>
    private static string Validate(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (string.IsNullOrEmpty(record.Kind) || record.Kind.Length > MaxKindLength || !KindPattern().IsMatch(record.Kind))
        {
            throw new ArgumentException(
                $"Kind must be dotted lowercase words of at most {MaxKindLength} characters, e.g. {AuditKinds.ConsentGiven}.", nameof(record));
        }

        if (string.IsNullOrWhiteSpace(record.Actor) || record.Actor.Length > MaxActorLength)
        {
            throw new ArgumentException($"Actor must be given, at most {MaxActorLength} characters.", nameof(record));
        }

        if (record.Subject is { } subject && (subject.Length is 0 or > MaxSubjectLength || LooksLikePhoneNumber(subject)))
        {
            throw new ArgumentException(
                $"Subject must be the HMAC pseudonym of a phone number (at most {MaxSubjectLength} characters), never the number.", nameof(record));
        }

        try
        {
            var details = AuditEntryFormat.CanonicalDetails(record.Details);
            // Kind, actor and subject must be storable and canonical too (no U+0000, no unpaired surrogate).
            AuditEntryFormat.EncodeCanonical(0, DateTimeOffset.UnixEpoch, record.Kind, record.Actor, record.Subject, details);
            return details;
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException(e.Message, nameof(record), e);
        }
    }

    /// <summary>Digits and phone punctuation only, as many digits as a phone number has.</summary>
    private static bool LooksLikePhoneNumber(string subject)
    {
        var digits = 0;
        foreach (var c in subject)
        {
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
            else if (c is not ('+' or ' ' or '(' or ')' or '-' or '.'))
            {
                return false;
            }
        }

        // E.164 numbers have at most 15 digits; a GUID or a hex HMAC that happens to be all digits has more.
        return digits is >= 7 and <= 15;
    }

    private static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    /// <summary>A validated record waiting for a transaction; queued, then claimed by a writer or abandoned by its caller.</summary>
    private sealed class PendingAppend(AuditRecord record, string canonicalDetails)
    {
        private const int Queued = 0;
        private const int Claimed = 1;
        private const int Abandoned = 2;

        private int _state = Queued;

        public AuditRecord Record { get; } = record;

        public string CanonicalDetails { get; } = canonicalDetails;

        public TaskCompletionSource<AuditReceipt> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool TryClaim() => Interlocked.CompareExchange(ref _state, Claimed, Queued) == Queued;

        public bool TryAbandon() => Interlocked.CompareExchange(ref _state, Abandoned, Queued) == Queued;
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)*$", RegexOptions.CultureInvariant)]
    private static partial Regex KindPattern();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Appended audit entry {Seq} ({Kind})")]
    private static partial void LogAppended(ILogger logger, long seq, string kind);

    [LoggerMessage(Level = LogLevel.Error, Message = "Appending {Count} audit entries failed; none was written")]
    private static partial void LogAppendFailed(ILogger logger, Exception exception, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit log verified: {Size} entries, root {RootHash}")]
    private static partial void LogVerified(ILogger logger, long size, string rootHash);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Audit log verification failed at entry {Seq} ({Failure}): {Detail}")]
    private static partial void LogVerificationFailed(ILogger logger, long seq, AuditFailure failure, string detail);
}
