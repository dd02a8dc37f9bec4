-- Data subjects and their consent events.
--
-- A phone number is stored only as an HMAC-SHA256 under Compliance:SubjectKey and masked to its last four digits.
-- Everything else (consent events, audit entries) refers to the subject's random id, so erasing the subject row
-- leaves nothing that links them back to the number.
CREATE TABLE IF NOT EXISTS subjects (
    subject_id  uuid        PRIMARY KEY,
    number_hash text        NOT NULL UNIQUE,
    masked      text        NOT NULL,
    created_at  timestamptz NOT NULL
);

-- Append-only: the current state of a consent is the newest event of its type; nothing is ever overwritten.
CREATE TABLE IF NOT EXISTS consent_events (
    seq          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           uuid        NOT NULL UNIQUE,
    subject_id   uuid        NOT NULL REFERENCES subjects (subject_id) ON DELETE CASCADE,
    consent_type text        NOT NULL CHECK (consent_type IN ('recording', 'transcription', 'ai_processing', 'data_storage', 'marketing', 'analytics')),
    action       text        NOT NULL CHECK (action IN ('given', 'withdrawn', 'expired')),
    jurisdiction text        NOT NULL,
    method       text        NOT NULL,
    evidence     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    purpose      text        NOT NULL,
    expires_at   timestamptz NULL,
    recorded_at  timestamptz NOT NULL,
    recorded_by  text        NOT NULL
);

CREATE INDEX IF NOT EXISTS ix_consent_events_subject_type ON consent_events (subject_id, consent_type, seq DESC);

-- Events are never changed; they go only with their subject (erasure).
CREATE OR REPLACE FUNCTION consent_events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent_events is append-only: record a new event instead of changing event %', OLD.id;
END;
$$;

DROP TRIGGER IF EXISTS consent_events_no_update ON consent_events;
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_are_append_only();
