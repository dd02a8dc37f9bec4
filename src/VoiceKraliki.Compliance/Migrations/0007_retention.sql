-- Retention enforcement. What each call left behind, as far as retention is concerned: the regions of its parties
-- (never the numbers), when it was last heard of and when it ended, and the provider's recording ids. Fed by the
-- CallEventReceived and MediaStreamStarted events every call produces.
CREATE TABLE IF NOT EXISTS retention_calls (
    provider_call_id    text        PRIMARY KEY,
    provider            text        NOT NULL,
    -- Region names (US, EU, …); NULL while no event has named that party, which counts as OTHER (the strictest).
    from_region         text        NULL,
    to_region           text        NULL,
    first_seen_at       timestamptz NOT NULL,
    last_event_at       timestamptz NOT NULL,
    ended_at            timestamptz NULL,
    provider_recordings text[]      NOT NULL DEFAULT '{}'
);

-- Retention runs from the end of the call, or from the last that was heard of it when no end ever came.
CREATE INDEX IF NOT EXISTS ix_retention_calls_basis ON retention_calls ((COALESCE(ended_at, last_event_at)));

-- One row per call and category of data held for it: held until a sweep finds it past its policy, then expiring
-- (RetentionExpired published) until every holder has confirmed with RetentionEnforced.
CREATE TABLE IF NOT EXISTS retention_items (
    provider_call_id text        NOT NULL REFERENCES retention_calls (provider_call_id) ON DELETE CASCADE,
    category         text        NOT NULL,
    state            text        NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'expiring', 'enforced')),
    region           text        NULL,
    action           text        NULL CHECK (action IN ('delete', 'anonymize')),
    due_at           timestamptz NULL,
    sweep_id         uuid        NULL,
    event_id         uuid        NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    published_at     timestamptz NULL,
    enforced_at      timestamptz NULL,
    holders          text[]      NOT NULL DEFAULT '{}',
    -- Each holder's answer: service → items it deleted or anonymized.
    confirmed        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (provider_call_id, category)
);

CREATE INDEX IF NOT EXISTS ix_retention_items_held ON retention_items (provider_call_id) WHERE state = 'held';
CREATE INDEX IF NOT EXISTS ix_retention_items_expiring ON retention_items (published_at) WHERE state = 'expiring';
CREATE INDEX IF NOT EXISTS ix_retention_items_sweep ON retention_items (sweep_id) WHERE sweep_id IS NOT NULL;

-- Each sweep: scheduled by the elected instance, or requested through the API and run by it.
CREATE TABLE IF NOT EXISTS retention_sweeps (
    id           uuid        PRIMARY KEY,
    trigger      text        NOT NULL CHECK (trigger IN ('schedule', 'request')),
    requested_by text        NOT NULL,
    requested_at timestamptz NOT NULL,
    status       text        NOT NULL CHECK (status IN ('requested', 'running', 'published', 'failed')),
    as_of        timestamptz NULL,
    instance     text        NULL,
    started_at   timestamptz NULL,
    finished_at  timestamptz NULL,
    found        integer     NOT NULL DEFAULT 0,
    error        text        NULL
);

CREATE INDEX IF NOT EXISTS ix_retention_sweeps_requested ON retention_sweeps (requested_at) WHERE status IN ('requested', 'running');
CREATE INDEX IF NOT EXISTS ix_retention_sweeps_recent ON retention_sweeps (requested_at DESC);

-- The RetentionEnforced events already applied, so a redelivered answer is audited once.
CREATE TABLE IF NOT EXISTS retention_confirmations (
    event_id    uuid        PRIMARY KEY,
    received_at timestamptz NOT NULL
);
