using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using VoiceKraliki.Contracts;

namespace VoiceKraliki.ServiceDefaults.Messaging.Outbox;

/// <summary>
/// Puts integration events in the outbox inside the caller's transaction, so an event exists exactly when the
/// change it announces was committed; the <see cref="OutboxRelay"/> publishes it afterwards.
/// </summary>
public sealed class OutboxWriter(OutboxEventTypes types, OutboxSignal signal, TimeProvider timeProvider)
{
    /// <summary>
    /// The row for <paramref name="message"/>, for a service that writes it itself (call-state adds it as an EF
    /// Core entity). Throws when <typeparamref name="T"/> was not added in <c>AddOutbox</c>.
    /// </summary>
    public OutboxMessageRow Create<T>(T message, DateTimeOffset createdAt) where T : class, IIntegrationEvent
    {
        ArgumentNullException.ThrowIfNull(message);
        return new OutboxMessageRow(
            message.EventId,
            types.NameOf(typeof(T)),
            JsonSerializer.Serialize(message, OutboxEventTypes.JsonOptions),
            createdAt.ToUniversalTime());
    }

    /// <summary>
    /// Inserts <paramref name="message"/> in <paramref name="transaction"/>; it is published once that commits
    /// (call <see cref="Notify"/> after the commit to publish it now rather than at the next poll). An event id
    /// already in the outbox fails the insert (a unique violation), as it would mean two events with one id.
    /// </summary>
    public async Task EnqueueAsync<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, T message, CancellationToken cancellationToken)
        where T : class, IIntegrationEvent
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(transaction);
        if (!ReferenceEquals(transaction.Connection, connection))
        {
            throw new ArgumentException("The transaction is not on this connection (or has completed).", nameof(transaction));
        }

        var row = Create(message, timeProvider.GetUtcNow());
        await using var insert = new NpgsqlCommand(
            "INSERT INTO outbox_messages (id, type, payload, created_at) VALUES ($1, $2, $3, $4)", connection, transaction);
        insert.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = row.Id });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.Type });
        insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = row.Payload, NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = row.CreatedAt });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Wakes this replica's relay; call it after the transaction that enqueued events has committed.</summary>
    public void Notify() => signal.Notify();
}
