namespace VoiceKraliki.ServiceDefaults.Messaging.Outbox;

/// <summary>The table the <see cref="OutboxWriter"/> writes and the <see cref="OutboxRelay"/> publishes.</summary>
public static class OutboxSchema
{
    /// <summary>
    /// The canonical DDL of <c>outbox_messages</c> and its index. ServiceDefaults does not run it: a service that
    /// adds the outbox pastes it, verbatim, into a migration file of its own (<c>Migrations/NNNN_outbox.sql</c>,
    /// applied by <c>AddMigrations</c>), because a migration that has run must never change and this constant
    /// may. It is idempotent (<c>IF NOT EXISTS</c>), and call-state's <c>0002_calls.sql</c> created the same table.
    /// A later change to the table is a new migration in every service that has it, and a change here.
    /// </summary>
    public const string Sql =
        """
        CREATE TABLE IF NOT EXISTS outbox_messages (
            id              uuid        PRIMARY KEY,
            type            text        NOT NULL,
            payload         jsonb       NOT NULL,
            created_at      timestamptz NOT NULL,
            published_at    timestamptz NULL,
            attempts        integer     NOT NULL DEFAULT 0,
            last_error      text        NULL,
            -- After a failed publish the row waits (backoff) so that one bad row cannot hold up the rest.
            next_attempt_at timestamptz NULL
        );

        CREATE INDEX IF NOT EXISTS ix_outbox_messages_unpublished ON outbox_messages (created_at, id)
            WHERE published_at IS NULL;
        """;
}
