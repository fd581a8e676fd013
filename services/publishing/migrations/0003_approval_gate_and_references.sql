-- Row-level security is the migration runner's (ADR 0004): it enables and forces it, with the
-- brand_isolation policy, on every table with a brand_id. The blocks that wrote it here too went
-- after this file was applied; that text stays recorded as applied where it ran (ADR 0018):
-- replaces sha256 e99e173eb4b5b16f8753da81ed10a624045b837f0801af2942482acafb8190c1
-- The approval gate decided here, and references checked here (ADR 0006):
--   approval_policies   publishing's projection of approval's policies (approval.policy_changed / policy_deleted)
--   known_connections   publishing's projection of connections (connections.connected / expired / revoked /
--                       restored / disconnected): a target may name only a connection of its own brand that is known
--   publishing_jobs     what goes out has a hash; an approval (a round or a waiver) counts for one hash only

CREATE TABLE approval_policies (
    policy_id     uuid        PRIMARY KEY,
    brand_id      uuid        NOT NULL,
    connection_id uuid,                       -- NULL: every connection of the brand
    user_id       text,                       -- NULL: every author
    mode          text        NOT NULL CHECK (mode IN ('approval_required', 'full_posting')),
    waiver_roles  text[]      NOT NULL DEFAULT '{owner,admin}',
    updated_at    timestamptz NOT NULL
);
CREATE INDEX approval_policies_brand ON approval_policies (brand_id);

CREATE TABLE known_connections (
    connection_id uuid        PRIMARY KEY,
    brand_id      uuid        NOT NULL,
    platform      text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('active', 'expired', 'revoked', 'disconnected')),
    updated_at    timestamptz NOT NULL
);
CREATE INDEX known_connections_brand ON known_connections (brand_id);

-- Connections that jobs used before this projection existed are known from those jobs (their
-- hold, if any, says how they are); a connection never used before must announce itself again.
INSERT INTO known_connections (connection_id, brand_id, platform, status, updated_at)
SELECT DISTINCT ON (t.connection_id) t.connection_id, t.brand_id, t.platform,
       CASE WHEN h.reason LIKE 'disconnected%' THEN 'disconnected'
            WHEN h.reason LIKE 'connection_revoked%' THEN 'revoked'
            WHEN h.reason IS NOT NULL THEN 'expired'
            ELSE 'active' END,
       now()
  FROM publishing_targets t LEFT JOIN connection_holds h USING (connection_id)
 ORDER BY t.connection_id;

ALTER TABLE publishing_jobs
    ADD COLUMN content_hash       text,                            -- sha256 of every target's account, text and media
    ADD COLUMN approval_required  boolean NOT NULL DEFAULT false,  -- the gate: the author asked, or a policy says so
    ADD COLUMN approval_reason    text,                            -- why (which policy), in words
    ADD COLUMN round_hash         text,                            -- content_hash when the current round opened
    ADD COLUMN approved_hash      text,                            -- the content an approval or waiver covers
    ADD COLUMN approval_waived_by text,
    ADD COLUMN approval_waived_at timestamptz;

-- Jobs from before: the author's flag was the gate, and an approved round covered the content
-- as it stood (and an open round will cover it). Their hash is 'legacy' until the first edit
-- computes it (and so asks again).
UPDATE publishing_jobs
   SET approval_required = requires_approval,
       content_hash = 'legacy',
       round_hash = 'legacy',
       approved_hash = CASE WHEN approved_round IS NOT NULL AND approved_round = approval_round THEN 'legacy' END;
