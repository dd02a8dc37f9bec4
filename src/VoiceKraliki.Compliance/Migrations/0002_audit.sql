-- The tamper-evident audit log (RFC 6962 Merkle tree; see Audit/AuditLog.cs and Audit/AuditEntryFormat.cs).
-- Rows are appended under pg_advisory_xact_lock and never changed: the triggers below refuse UPDATE, DELETE and
-- TRUNCATE, so changing history takes a deliberate ALTER TABLE ... DISABLE TRIGGER, which verification then exposes.
-- In production the service's role should not own these tables, so that it cannot disable the triggers itself.

CREATE TABLE IF NOT EXISTS audit_entries (
    seq         bigint      PRIMARY KEY CHECK (seq >= 0),
    occurred_at timestamptz NOT NULL,
    kind        text        NOT NULL,
    actor       text        NOT NULL,
    -- A pseudonym of the data subject (the consent store's random subject id), never a phone number.
    subject     text        NULL,
    details     jsonb       NOT NULL CHECK (jsonb_typeof(details) = 'object'),
    -- SHA-256(0x00 || canonical entry).
    leaf_hash   bytea       NOT NULL CHECK (octet_length(leaf_hash) = 32)
);

-- Access and erasure requests look a subject's entries up.
CREATE INDEX IF NOT EXISTS ix_audit_entries_subject ON audit_entries (subject, seq) WHERE subject IS NOT NULL;

-- The tree head (digest) after every append: MTH of entries 0 .. size-1, and the right edge of the tree (the roots
-- of its perfect subtrees, largest first, 32 bytes each) from which the next append computes the next head.
CREATE TABLE IF NOT EXISTS audit_heads (
    size        bigint      PRIMARY KEY CHECK (size > 0),
    root_hash   bytea       NOT NULL CHECK (octet_length(root_hash) = 32),
    frontier    bytea       NOT NULL CHECK (octet_length(frontier) % 32 = 0),
    computed_at timestamptz NOT NULL
);

CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS
$$
BEGIN
    RAISE EXCEPTION 'audit log rows are immutable: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'The audit log is append-only; record a correcting entry instead.';
END;
$$;

CREATE OR REPLACE TRIGGER audit_entries_immutable
    BEFORE UPDATE OR DELETE ON audit_entries
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();

CREATE OR REPLACE TRIGGER audit_entries_no_truncate
    BEFORE TRUNCATE ON audit_entries
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

CREATE OR REPLACE TRIGGER audit_heads_immutable
    BEFORE UPDATE OR DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();

CREATE OR REPLACE TRIGGER audit_heads_no_truncate
    BEFORE TRUNCATE ON audit_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
