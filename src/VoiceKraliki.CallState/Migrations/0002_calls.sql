-- Calls, the audit trail of every event applied to them (or ignored, and why), and the outbox of
-- CallStateChanged events written in the same transaction. Enum values are stored in snake_case.

CREATE TABLE IF NOT EXISTS calls (
    provider_call_id    text        PRIMARY KEY,
    session_id          text        NULL,
    provider            text        NOT NULL CHECK (provider IN ('twilio', 'telnyx')),
    direction           text        NOT NULL CHECK (direction IN ('unknown', 'inbound', 'outbound')),
    status              text        NOT NULL CHECK (status IN ('initiated', 'ringing', 'answered', 'on_hold', 'transferring', 'completed', 'failed')),
    end_reason          text        NOT NULL CHECK (end_reason IN ('none', 'normal', 'busy', 'no_answer', 'canceled', 'rejected', 'failed', 'time_limit', 'machine_detected', 'unknown')),
    from_number         text        NULL,
    to_number           text        NULL,
    -- The last provider details that are not columns: answered_by, hangup_cause, raw fields…
    metadata            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    answered_at         timestamptz NULL,
    ended_at            timestamptz NULL,
    last_sequence       bigint      NULL,
    last_provider_time  timestamptz NULL,
    applied_transitions integer     NOT NULL DEFAULT 0 CHECK (applied_transitions >= 0)
);

-- Active calls (the dashboard's "now" view) stay a small index however many calls have ended.
CREATE INDEX IF NOT EXISTS ix_calls_active ON calls (status, created_at, provider_call_id)
    WHERE status NOT IN ('completed', 'failed');

CREATE INDEX IF NOT EXISTS ix_calls_status ON calls (status, created_at, provider_call_id);

CREATE INDEX IF NOT EXISTS ix_calls_session_id ON calls (session_id) WHERE session_id IS NOT NULL;

-- List queries filter by provider and direction and page by the key (created_at, provider_call_id).
CREATE INDEX IF NOT EXISTS ix_calls_provider_direction_created
    ON calls (provider, direction, created_at, provider_call_id);

CREATE INDEX IF NOT EXISTS ix_calls_created ON calls (created_at, provider_call_id);

CREATE TABLE IF NOT EXISTS call_transitions (
    -- Assigned under the call's row lock, so within one call it follows commit order.
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id         text        NOT NULL REFERENCES calls (provider_call_id) ON DELETE CASCADE,
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    from_status     text        NULL,
    to_status       text        NOT NULL,
    end_reason      text        NOT NULL,
    outcome         text        NOT NULL CHECK (outcome IN ('applied', 'ignored')),
    ignored_because text        NULL,
    sequence        bigint      NULL,
    provider_time   timestamptz NOT NULL,
    received_at     timestamptz NOT NULL,
    committed_at    timestamptz NOT NULL,
    CONSTRAINT ck_call_transitions_ignored_because CHECK ((outcome = 'ignored') = (ignored_because IS NOT NULL)),
    -- A second guard behind the inbox: an event is recorded once.
    CONSTRAINT ux_call_transitions_event_id UNIQUE (event_id)
);

CREATE INDEX IF NOT EXISTS ix_call_transitions_call_committed ON call_transitions (call_id, committed_at, id);

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
