-- Row-level security is the migration runner's (ADR 0004): it enables and forces it, with the
-- brand_isolation policy, on every table with a brand_id. The blocks that wrote it here too went
-- after this file was applied; that text stays recorded as applied where it ran (ADR 0018):
-- replaces sha256 44f9d7eaf199330045ea1a39f3e9d1d6d52da60b8be2bec221fa41fc97adde4e
-- Publishing: jobs, their per-connection targets, the attempt log, media and quotas.
-- Unqualified names: the migration runner sets search_path to the service's schema.

CREATE TABLE publishing_jobs (
    job_id            uuid        PRIMARY KEY,
    brand_id          uuid        NOT NULL,
    tenant_id         uuid        NOT NULL,
    author_id         text        NOT NULL,
    content           text        NOT NULL,
    tags              text[]      NOT NULL DEFAULT '{}',
    media_ids         uuid[]      NOT NULL DEFAULT '{}',
    scheduled_at      timestamptz,                      -- UTC instant
    time_zone         text,                             -- IANA zone the user scheduled in (display, DST)
    requires_approval boolean     NOT NULL DEFAULT false,
    approval_round    integer     NOT NULL DEFAULT 0,   -- rounds opened so far (0: never submitted)
    approved_round    integer,                          -- the round that was approved, if any
    status            text        NOT NULL DEFAULT 'draft' CHECK (status IN (
                          'draft', 'pending_approval', 'changes_requested', 'ready', 'scheduled',
                          'publishing', 'published', 'partially_published', 'failed', 'cancelled')),
    status_reason     text,                             -- why a job cannot proceed, in words
    retry_count       integer     NOT NULL DEFAULT 0,
    max_retries       integer     NOT NULL DEFAULT 3 CHECK (max_retries BETWEEN 0 AND 20),
    last_error        text,
    version           integer     NOT NULL DEFAULT 1,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    -- The calendar orders drafts (no time yet) by creation.
    calendar_at       timestamptz GENERATED ALWAYS AS (coalesce(scheduled_at, created_at)) STORED,
    search            tsvector    NOT NULL DEFAULT ''   -- kept by the trigger below
) WITH (fillfactor = 80);  -- room on the page keeps status updates HOT (no index writes)

-- The search vector is computed only when content or tags change. A generated column would be
-- recomputed on every UPDATE of the row (PostgreSQL recomputes stored generated columns
-- unconditionally), and the dispatcher and event handlers update job rows constantly.
CREATE FUNCTION jobs_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := setweight(to_tsvector('simple'::regconfig, coalesce(array_to_string(NEW.tags, ' '), '')), 'A')
               || setweight(to_tsvector('english'::regconfig, NEW.content), 'B');
    RETURN NEW;
END $$;
CREATE TRIGGER jobs_search_vector BEFORE INSERT OR UPDATE OF content, tags ON publishing_jobs
    FOR EACH ROW EXECUTE FUNCTION jobs_search_vector();

-- Calendar and status lists both walk a brand's jobs in time order; status is deliberately in
-- no index, so that the dispatcher's and handlers' status changes stay HOT updates (an indexed
-- status would rewrite every index entry, the GIN one included, on each change).
CREATE INDEX jobs_calendar ON publishing_jobs (brand_id, calendar_at, job_id) WHERE deleted_at IS NULL;
CREATE INDEX jobs_search ON publishing_jobs USING gin (search);
CREATE INDEX jobs_purge ON publishing_jobs (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE publishing_targets (
    target_id        uuid        PRIMARY KEY,
    job_id           uuid        NOT NULL REFERENCES publishing_jobs ON DELETE CASCADE,
    brand_id         uuid        NOT NULL,
    position         integer     NOT NULL,
    platform         text        NOT NULL,
    connection_id    uuid        NOT NULL,
    text_variant     text,                               -- NULL: the job's content
    media_variant    uuid[],                             -- NULL: the job's media
    idempotency_key  text        NOT NULL UNIQUE,        -- stable for (job, target) across retries
    -- waiting: not yet due-able (draft/approval); scheduled: due at next_attempt_at;
    -- publishing: requested, awaiting connections (re-checked at next_attempt_at).
    status           text        NOT NULL DEFAULT 'waiting' CHECK (status IN (
                         'waiting', 'scheduled', 'publishing', 'held', 'published', 'failed', 'missed', 'cancelled')),
    attempts         integer     NOT NULL DEFAULT 0,
    rechecks         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    due_at           timestamptz,                        -- when it was meant to go out (grace window)
    requested_at     timestamptz,
    held_reason      text,
    remote_id        text,
    url              text,
    last_error       text,
    platform_message text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- The dispatcher's only query: due targets, oldest first. Small: only live rows are in it.
CREATE INDEX targets_due ON publishing_targets (next_attempt_at) WHERE status IN ('scheduled', 'publishing');
CREATE INDEX targets_job ON publishing_targets (job_id, position);
CREATE INDEX targets_connection ON publishing_targets (connection_id, status);

-- One row per attempt, written when the attempt's outcome is known (or it is held). The attempt
-- in flight is the target itself (status publishing, requested_at): dispatch stays one write per target.
CREATE TABLE publishing_logs (
    target_id        uuid        NOT NULL REFERENCES publishing_targets ON DELETE CASCADE,
    attempt          integer     NOT NULL,
    brand_id         uuid        NOT NULL,
    job_id           uuid        NOT NULL,
    idempotency_key  text        NOT NULL,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz NOT NULL,
    outcome          text        CHECK (outcome IN ('published', 'failed', 'retry_scheduled', 'held')),
    remote_id        text,
    url              text,
    error            text,
    platform_message text,
    retry_at         timestamptz,                        -- when the next attempt was scheduled for
    rechecks         integer     NOT NULL DEFAULT 0,
    PRIMARY KEY (target_id, attempt)
);
CREATE INDEX logs_job ON publishing_logs (job_id);

-- A connection that connections reported expired/revoked: its targets wait, with a reason.
CREATE TABLE connection_holds (
    brand_id      uuid        NOT NULL,
    connection_id uuid        PRIMARY KEY,
    reason        text        NOT NULL,
    since         timestamptz NOT NULL
);

CREATE TABLE storage_quotas (
    brand_id    uuid   PRIMARY KEY,
    quota_bytes bigint NOT NULL CHECK (quota_bytes >= 0),
    used_bytes  bigint NOT NULL DEFAULT 0 CHECK (used_bytes >= 0)
);

CREATE TABLE media_assets (
    media_id      uuid        PRIMARY KEY,
    brand_id      uuid        NOT NULL,
    sha256        text        NOT NULL,
    mime_type     text        NOT NULL,
    size_bytes    bigint      NOT NULL CHECK (size_bytes >= 0),
    duration_s    double precision,
    storage_key   text        NOT NULL,
    url           text        NOT NULL,                 -- where connections fetches it (from the storage)
    original_name text,
    uploaded_by   text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (brand_id, sha256)
);
CREATE INDEX media_brand_created ON media_assets (brand_id, created_at DESC, media_id);

CREATE TABLE media_usage (
    media_id uuid NOT NULL REFERENCES media_assets ON DELETE CASCADE,
    job_id   uuid NOT NULL REFERENCES publishing_jobs ON DELETE CASCADE,
    brand_id uuid NOT NULL,
    PRIMARY KEY (media_id, job_id)
);
CREATE INDEX media_usage_job ON media_usage (job_id);
