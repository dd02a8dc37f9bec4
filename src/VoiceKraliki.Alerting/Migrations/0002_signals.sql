-- Signal history, one row per series and minute: what the samples of that minute were. Written every minute by every
-- replica from its own samples; a row is replaced only by an aggregate of more samples (the replica that saw more of
-- the minute), never added to, so replicas and retries cannot count a minute twice.
CREATE TABLE IF NOT EXISTS signal_history (
    signal       text             NOT NULL,
    fingerprint  text             NOT NULL,
    bucket       timestamptz      NOT NULL,
    labels       jsonb            NOT NULL,
    sample_count integer          NOT NULL CHECK (sample_count > 0),
    min_value    double precision NOT NULL,
    max_value    double precision NOT NULL,
    avg_value    double precision NOT NULL,
    last_value   double precision NOT NULL,
    written_by   text             NOT NULL,
    written_at   timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (signal, fingerprint, bucket)
);

CREATE INDEX IF NOT EXISTS ix_signal_history_bucket ON signal_history (bucket);

-- The events whose signals must survive a restart and be the same on every replica: compliance violations and
-- data-subject requests at risk (counted over windows of up to days), and provider health states (the latest holds).
CREATE TABLE IF NOT EXISTS signal_events (
    event_id    uuid             PRIMARY KEY,
    signal      text             NOT NULL,
    provider    text,
    occurred_at timestamptz      NOT NULL,
    counted_at  timestamptz      NOT NULL,
    value       double precision NOT NULL,
    received_at timestamptz      NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX IF NOT EXISTS ix_signal_events_signal_counted_at ON signal_events (signal, counted_at);
CREATE INDEX IF NOT EXISTS ix_signal_events_received_at ON signal_events (received_at);
CREATE INDEX IF NOT EXISTS ix_signal_events_health ON signal_events (provider, occurred_at DESC) WHERE signal = 'provider_health';
