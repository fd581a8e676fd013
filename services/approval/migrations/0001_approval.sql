-- Row-level security is the migration runner's (ADR 0004): it enables and forces it, with the
-- brand_isolation policy, on every table with a brand_id. The blocks that wrote it here too went
-- after this file was applied; that text stays recorded as applied where it ran (ADR 0018):
-- replaces sha256 9e05dd6c0d681e19fd0c8431cf28f89d32afc4521f1f46d28889b0e14389dc3f
-- The approval service's tables. Unqualified names: the runner sets search_path to the schema.
-- Every table with brand_id has the brand_isolation policy (ADR 0004); loops that span brands
-- (escalation timer, mail sender, audit partition maintenance) run as the _worker role.

-- Brands as the gateway announces them: the time zone quiet hours are evaluated in.
CREATE TABLE brands (
    brand_id    uuid PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    name        text,
    time_zone   text        NOT NULL DEFAULT 'UTC',
    archived_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Brand members (from gateway.member_*): who may review, and where their mail goes.
CREATE TABLE reviewers (
    brand_id   uuid NOT NULL,
    user_id    text NOT NULL,
    email      text NOT NULL,
    role       text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (brand_id, user_id)
);
CREATE INDEX reviewers_role ON reviewers (brand_id, role);

-- Per brand, connection and author: does a post need approval, and who may approve it.
CREATE TABLE approval_policies (
    id             uuid PRIMARY KEY,
    brand_id       uuid   NOT NULL,
    connection_id  uuid,
    user_id        text,
    mode           text   NOT NULL CHECK (mode IN ('approval_required', 'full_posting')),
    approver_roles text[] NOT NULL,
    approver_users text[] NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX approval_policies_scope
    ON approval_policies (brand_id, coalesce(connection_id, '00000000-0000-0000-0000-000000000000'::uuid), coalesce(user_id, ''));

-- One row per approval round of a job; a decision locks the row (status leaves 'pending').
CREATE TABLE post_approvals (
    id               uuid PRIMARY KEY,
    brand_id         uuid        NOT NULL,
    tenant_id        uuid        NOT NULL,
    job_id           uuid        NOT NULL,
    round            integer     NOT NULL CHECK (round >= 1),
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'approved', 'rejected', 'changes_requested', 'cancelled')),
    author_id        text        NOT NULL,
    content          text        NOT NULL,
    targets          jsonb       NOT NULL DEFAULT '[]',
    scheduled_at     timestamptz,
    approver_roles   text[]      NOT NULL,
    approver_users   text[]      NOT NULL DEFAULT '{}',
    note             text,
    opened_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    decided_at       timestamptz,
    decided_by       text,
    decision_comment text,
    UNIQUE (brand_id, job_id, round)
);
CREATE INDEX post_approvals_by_status_age ON post_approvals (brand_id, status, opened_at, id);
CREATE INDEX post_approvals_pending ON post_approvals (opened_at) WHERE status = 'pending';

-- Signed review links for clients without an account; usable once.
CREATE TABLE review_links (
    id             uuid PRIMARY KEY,
    brand_id       uuid        NOT NULL,
    approval_id    uuid        NOT NULL REFERENCES post_approvals (id),
    recipient      text,
    created_by     text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    used_at        timestamptz,
    used_decision  text
);
CREATE INDEX review_links_approval ON review_links (approval_id);

CREATE TABLE escalation_rules (
    id          uuid PRIMARY KEY,
    brand_id    uuid    NOT NULL,
    name        text    NOT NULL,
    enabled     boolean NOT NULL DEFAULT true,
    levels      jsonb   NOT NULL,           -- [{after_hours, notify_roles, notify_addresses}]
    quiet_start time,
    quiet_end   time,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX escalation_rules_brand ON escalation_rules (brand_id) WHERE enabled;

-- Each (approval, rule, level) fires once: the unique key is what makes several timer replicas safe.
CREATE TABLE escalation_events (
    id          uuid PRIMARY KEY,
    brand_id    uuid        NOT NULL,
    approval_id uuid        NOT NULL REFERENCES post_approvals (id),
    rule_id     uuid        NOT NULL,
    level       integer     NOT NULL CHECK (level >= 1),
    notified    text[]      NOT NULL DEFAULT '{}',
    fired_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (approval_id, rule_id, level)
);

-- Every step of an escalation: fired, deferred by quiet hours, resolved by a decision.
CREATE TABLE escalation_history (
    id          bigserial PRIMARY KEY,
    brand_id    uuid        NOT NULL,
    approval_id uuid        NOT NULL,
    rule_id     uuid        NOT NULL,
    level       integer     NOT NULL,
    step        text        NOT NULL CHECK (step IN ('fired', 'deferred_quiet_hours', 'resolved')),
    detail      jsonb       NOT NULL DEFAULT '{}',
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (approval_id, rule_id, level, step)
);

-- Per client address: e-mail preferences (JSONB, defaults filled in when read), time zone,
-- unsubscribe state. The unsubscribe token is derived (HMAC of id and token_version), so
-- nothing secret is stored and raising token_version revokes every token handed out.
CREATE TABLE client_settings (
    id              uuid PRIMARY KEY,
    brand_id        uuid        NOT NULL,
    email           text        NOT NULL,
    preferences     jsonb       NOT NULL DEFAULT '{}',
    time_zone       text,
    unsubscribed_at timestamptz,
    token_version   integer     NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (brand_id, email)
);

-- Mail outbox: the workflow only inserts here; a sender loop delivers, retries, gives up.
CREATE TABLE notifications (
    id              uuid PRIMARY KEY,
    brand_id        uuid        NOT NULL,
    kind            text        NOT NULL CHECK (kind IN ('approval_requested', 'reminder', 'escalated', 'decided')),
    to_address      text        NOT NULL,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    approval_id     uuid,
    dedupe_key      text        NOT NULL UNIQUE,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'suppressed', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';

-- The audit trail: one row per domain event, partitioned by month of the event's time.
CREATE TABLE audit_logs (
    event_id    uuid        NOT NULL,
    occurred_at timestamptz NOT NULL,
    brand_id    uuid        NOT NULL,
    tenant_id   uuid        NOT NULL,
    source      text        NOT NULL,
    action      text        NOT NULL,       -- the event type
    actor       text        NOT NULL,
    entity_type text        NOT NULL,
    entity_id   text        NOT NULL,
    before      jsonb,
    after       jsonb,
    trace_id    text,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    -- A redelivered event hits this key (the month is part of it because it is the partition key).
    PRIMARY KEY (event_id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX audit_logs_brand_time ON audit_logs (brand_id, occurred_at DESC, event_id DESC);
CREATE INDEX audit_logs_entity ON audit_logs (brand_id, entity_type, entity_id, occurred_at DESC);
CREATE INDEX audit_logs_actor ON audit_logs (brand_id, actor, occurred_at DESC);

-- Append-only, enforced by the database: row triggers on the parent are cloned to every
-- partition, and TRUNCATE is refused too. Retention drops whole partitions (DDL, owner only).
CREATE FUNCTION audit_logs_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_refuse_change();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_refuse_change();

-- Creates the month's partition if missing. SECURITY DEFINER: the _app/_worker roles may not
-- run DDL, but the audit consumer must be able to store an event of a month not yet prepared
-- (a replay of old history). The lock serialises replicas racing for the same month.
CREATE FUNCTION audit_ensure_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    month_start date := date_trunc('month', at AT TIME ZONE 'UTC')::date;
    part_name   text := 'audit_logs_' || to_char(month_start, 'YYYYMM');
    schema_name text := current_schema();
BEGIN
    IF to_regclass(format('%I.%I', schema_name, part_name)) IS NOT NULL THEN
        RETURN part_name;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext(schema_name || '.' || part_name));
    IF to_regclass(format('%I.%I', schema_name, part_name)) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %I.%I PARTITION OF %I.audit_logs FOR VALUES FROM (%L) TO (%L)',
            schema_name, part_name, schema_name,
            (month_start::timestamp AT TIME ZONE 'UTC'),
            ((month_start + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
    END IF;
    RETURN part_name;
END $$;
