namespace VoiceKraliki.ServiceDefaults.Messaging.Outbox;

/// <summary>The table the <see cref="OutboxWriter"/> writes and the <see cref="OutboxRelay"/> publishes.</summary>
public static class OutboxSchema
{
    /// <summary>
    /// The DDL of <c>outbox_messages</c> and its index. A service adds it to its migrations with
    /// <see cref="Migration"/> (<c>AddMigrations(assembly, OutboxSchema.Migration("0004_outbox"))</c>), so it is
    /// written once. <b>Frozen</b>: a migration's checksum is recorded when it runs, so changing this text would fail
    /// every service that has applied it; a change to the table is a new migration. It is idempotent
    /// (<c>IF NOT EXISTS</c>); call-state's <c>0002_calls.sql</c> created the same table before this existed.
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

    /// <summary>The outbox table as a migration with the given id (its place among the service's own migrations).</summary>
    public static Data.Migration Migration(string id) => Data.Migration.Of(id, Sql);
}
