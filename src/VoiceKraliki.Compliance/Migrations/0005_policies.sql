-- Each distinct retention policy set the service has run with, so that a change of policy is audited once, when the
-- first replica starts with it.
CREATE TABLE IF NOT EXISTS policy_versions (
    seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash       text        NOT NULL,
    policies   jsonb       NOT NULL,
    applied_at timestamptz NOT NULL
);
