-- Retention deletes a call's published CallStateChanged events with the call (they are a copy of its history):
-- find them by call instead of scanning the whole outbox.
CREATE INDEX IF NOT EXISTS ix_outbox_messages_call ON outbox_messages ((payload->>'providerCallId'));
