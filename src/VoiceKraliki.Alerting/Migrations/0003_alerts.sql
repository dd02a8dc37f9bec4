-- Alert rules as data: the defaults shipped with the service, a rule file, and rules written through the API (which win).
CREATE TABLE IF NOT EXISTS alert_rules (
    name        text        PRIMARY KEY,
    definition  jsonb       NOT NULL,
    source      text        NOT NULL CHECK (source IN ('default', 'file', 'api')),
    updated_by  text        NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- A default or file rule deleted through the API stays deleted: the tombstone keeps it from coming back at start.
    deleted     boolean     NOT NULL DEFAULT false
);

-- Every occurrence of every alert, from pending to resolved. At most one active occurrence per label set.
CREATE TABLE IF NOT EXISTS alerts (
    id             uuid        PRIMARY KEY,
    fingerprint    text        NOT NULL,
    rule_name      text        NOT NULL,
    labels         jsonb       NOT NULL,
    annotations    jsonb       NOT NULL,
    state          text        NOT NULL CHECK (state IN ('pending', 'firing', 'resolved')),
    severity       text        NOT NULL,
    value          double precision NOT NULL,
    active_at      timestamptz NOT NULL,
    fired_at       timestamptz NULL,
    last_breach_at timestamptz NOT NULL,
    resolved_at    timestamptz NULL,
    resolved_by    text        NULL,
    ack_by         text        NULL,
    ack_at         timestamptz NULL,
    ack_note       text        NULL,
    updated_at     timestamptz NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS ux_alerts_active ON alerts (fingerprint) WHERE state IN ('pending', 'firing');
CREATE INDEX IF NOT EXISTS ix_alerts_state ON alerts (state, active_at DESC, id);
CREATE INDEX IF NOT EXISTS ix_alerts_recent ON alerts (active_at DESC, id);
CREATE INDEX IF NOT EXISTS ix_alerts_labels ON alerts USING gin (labels jsonb_path_ops);

-- What happened to each occurrence, who did it and when: the history operators read.
CREATE TABLE IF NOT EXISTS alert_events (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id uuid        NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    kind     text        NOT NULL CHECK (kind IN ('pending', 'fired', 'acknowledged', 'resolved', 'dropped')),
    at       timestamptz NOT NULL,
    actor    text        NULL,
    note     text        NULL,
    value    double precision NULL
);

CREATE INDEX IF NOT EXISTS ix_alert_events_alert ON alert_events (alert_id, id);

-- Silences (Alertmanager's): matchers over labels, a time window, who and why. Expiring one ends it now.
CREATE TABLE IF NOT EXISTS silences (
    id         uuid        PRIMARY KEY,
    matchers   jsonb       NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    created_by text        NOT NULL,
    comment    text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);

CREATE INDEX IF NOT EXISTS ix_silences_ends ON silences (ends_at);

-- Notification channels. Secrets (webhook URLs, routing keys, passwords) are sealed with AES-GCM under the service's
-- key (Alerting:SecretKey) and never leave the service.
CREATE TABLE IF NOT EXISTS channels (
    id              uuid        PRIMARY KEY,
    name            text        NOT NULL UNIQUE,
    type            text        NOT NULL,
    settings        jsonb       NOT NULL,
    sealed_secrets  bytea       NOT NULL,
    secret_names    text[]      NOT NULL,
    rate_per_minute integer     NOT NULL CHECK (rate_per_minute BETWEEN 1 AND 6000),
    send_resolved   boolean     NOT NULL,
    created_by      text        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

-- Alertmanager's notification log: per group and channel, what was last delivered. A new leader, a restart or a
-- second replica reads it and does not tell a channel again what it already knows.
CREATE TABLE IF NOT EXISTS notification_log (
    group_key        text        NOT NULL,
    channel_id       uuid        NOT NULL,
    receiver         text        NOT NULL,
    firing           text[]      NOT NULL,
    resolved         text[]      NOT NULL,
    acknowledged     boolean     NOT NULL,
    sent_at          timestamptz NOT NULL,
    last_attempt_at  timestamptz NOT NULL,
    last_outcome     text        NOT NULL,
    PRIMARY KEY (group_key, channel_id)
);

-- Every delivery attempt's outcome, for the API and operators (never secrets).
CREATE TABLE IF NOT EXISTS notification_attempts (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_key  text        NOT NULL,
    channel_id uuid        NOT NULL,
    status     text        NOT NULL,
    alerts     text[]      NOT NULL,
    outcome    text        NOT NULL,
    attempts   integer     NOT NULL,
    http_status integer    NULL,
    error      text        NULL,
    at         timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_notification_attempts_at ON notification_attempts (at DESC);
