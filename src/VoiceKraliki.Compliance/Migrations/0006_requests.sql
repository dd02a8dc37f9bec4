-- Data-subject requests (GDPR Art. 15/17/20) and each service's part in them. The number is never stored: the keyed
-- hash finds the subject for this service's own part (and is cleared once an erasure completes), the masked form is
-- for people. An export's parts hold the subject's own data until the bundle is fetched and the request is deleted.
CREATE TABLE IF NOT EXISTS subject_requests (
    id           uuid        PRIMARY KEY,
    kind         text        NOT NULL CHECK (kind IN ('export', 'erasure')),
    number_hash  text        NULL,
    masked       text        NOT NULL,
    event_id     uuid        NOT NULL,
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL,
    due_by       timestamptz NOT NULL,
    completed_at timestamptz NULL,
    at_risk_at   timestamptz NULL
);

CREATE INDEX IF NOT EXISTS ix_subject_requests_pending ON subject_requests (due_by) WHERE completed_at IS NULL;

CREATE TABLE IF NOT EXISTS subject_request_parts (
    request_id   uuid        NOT NULL REFERENCES subject_requests (id) ON DELETE CASCADE,
    service      text        NOT NULL,
    completed_at timestamptz NULL,
    items        integer     NULL,
    content      jsonb       NULL,
    PRIMARY KEY (request_id, service)
);
