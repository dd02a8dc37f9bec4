-- Integration events this service has already handled, so a redelivered event has no second effect.
CREATE TABLE IF NOT EXISTS inbox_messages (
    event_id     uuid        NOT NULL,
    consumer     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, consumer)
);

CREATE INDEX IF NOT EXISTS ix_inbox_messages_processed_at ON inbox_messages (processed_at);
