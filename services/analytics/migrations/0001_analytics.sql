-- Row-level security is the migration runner's (ADR 0004): it enables and forces it, with the
-- brand_isolation policy, on every table with a brand_id. The blocks that wrote it here too went
-- after this file was applied; that text stays recorded as applied where it ran (ADR 0018):
-- replaces sha256 3a117ec3c979f6e64285a74105558b9644a3e5f029b901fc2180ba55663644bf
-- Analytics schema: accounts it may sync, the posts it tracks, metric snapshots (partitioned
-- by month), sync logs, goals, advisor feedback/weights and auto plans.
-- Unqualified names: the migration runner sets search_path to the service's schema.

-- Accounts, as told by connections' events (analytics never reads connections' tables).
CREATE TABLE accounts (
    connection_id          uuid PRIMARY KEY,
    brand_id               uuid        NOT NULL,
    tenant_id              uuid        NOT NULL,
    platform               text        NOT NULL,
    account_id             text,
    account_name           text,
    status                 text        NOT NULL CHECK (status IN ('active', 'paused', 'revoked', 'disconnected')),
    status_reason          text,
    next_sync_at           timestamptz,
    last_sync_requested_at timestamptz,
    updated_at             timestamptz NOT NULL DEFAULT now()
);
-- The scheduler's claim: due active accounts, oldest first.
CREATE INDEX accounts_due ON accounts (next_sync_at) WHERE status = 'active';
CREATE INDEX accounts_brand ON accounts (brand_id);

-- publishing.job_created tells which connection each target goes to; job_published only names the target.
CREATE TABLE job_targets (
    target_id     uuid PRIMARY KEY,
    brand_id      uuid NOT NULL,
    job_id        uuid NOT NULL,
    connection_id uuid NOT NULL,
    platform      text NOT NULL
);

-- Posts published through Aligned: their posting time feeds best hours; a first sync is scheduled.
CREATE TABLE posts (
    brand_id                 uuid        NOT NULL,
    connection_id            uuid        NOT NULL,
    remote_id                text        NOT NULL,
    platform                 text        NOT NULL,
    job_id                   uuid,
    published_at             timestamptz NOT NULL,
    first_sync_requested_at  timestamptz,  -- the scheduler asks first_post_sync_delay_s after published_at
    PRIMARY KEY (connection_id, remote_id)
);
CREATE INDEX posts_first_sync_due ON posts (published_at) WHERE first_sync_requested_at IS NULL;
CREATE INDEX posts_brand_published ON posts (brand_id, published_at);

-- Metric snapshots. `value` is the platform's cumulative count at observed_at; `delta` is the
-- growth since the previous snapshot of the same series, kept at write time so every read is a
-- plain SUM over a time range (and only touches the partitions of that range).
CREATE TABLE analytics_metrics (
    brand_id      uuid             NOT NULL,
    connection_id uuid             NOT NULL,
    platform      text             NOT NULL,
    remote_id     text             NOT NULL DEFAULT '',  -- '' = account-level metric
    metric        text             NOT NULL,
    value         double precision NOT NULL,
    delta         double precision NOT NULL,
    observed_at   timestamptz      NOT NULL,
    sync_id       uuid,
    stored_at     timestamptz      NOT NULL DEFAULT now(),
    -- The upsert key; it must contain the partition key (observed_at) to be unique on a partitioned table.
    PRIMARY KEY (brand_id, connection_id, remote_id, metric, observed_at)
) PARTITION BY RANGE (observed_at);
-- Serves summaries, per platform, per post and time series as index-only scans within a brand's range.
CREATE INDEX analytics_metrics_brand_time
    ON analytics_metrics (brand_id, observed_at) INCLUDE (metric, platform, delta, connection_id, remote_id);

CREATE TABLE analytics_sync_logs (
    sync_id       uuid PRIMARY KEY,
    brand_id      uuid        NOT NULL,
    connection_id uuid        NOT NULL,
    platform      text        NOT NULL,
    trigger       text        NOT NULL CHECK (trigger IN ('schedule', 'on_demand', 'first_post', 'external')),
    remote_ids    text[]      NOT NULL DEFAULT '{}',
    status        text        NOT NULL CHECK (status IN ('requested', 'succeeded', 'failed', 'timed_out')),
    requested_at  timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz,
    rows          integer     NOT NULL DEFAULT 0,
    error         text
);
CREATE INDEX analytics_sync_logs_brand ON analytics_sync_logs (brand_id, requested_at DESC, sync_id DESC);
CREATE INDEX analytics_sync_logs_open ON analytics_sync_logs (requested_at) WHERE status = 'requested';

CREATE TABLE analytics_goals (
    goal_id       uuid PRIMARY KEY,
    brand_id      uuid        NOT NULL,
    tenant_id     uuid        NOT NULL,
    metric        text        NOT NULL,
    target        double precision NOT NULL CHECK (target > 0),
    period        text        NOT NULL CHECK (period IN ('day', 'week', 'month', 'quarter')),
    platform      text,
    connection_id uuid,
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    archived_at   timestamptz
);
CREATE INDEX analytics_goals_brand ON analytics_goals (brand_id, created_at, goal_id);

-- One row per goal and period it was reached in: the unique key makes goal_reached fire once.
CREATE TABLE goal_achievements (
    goal_id      uuid        NOT NULL REFERENCES analytics_goals (goal_id) ON DELETE CASCADE,
    period_start date        NOT NULL,
    brand_id     uuid        NOT NULL,
    value        double precision NOT NULL,
    reached_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (goal_id, period_start)
);

CREATE TABLE advisor_feedback (
    feedback_id  uuid PRIMARY KEY,
    brand_id     uuid        NOT NULL,
    user_id      text        NOT NULL,
    hour_of_week smallint    NOT NULL CHECK (hour_of_week BETWEEN 0 AND 167),
    rating       smallint    NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment      text,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE advisor_weights (
    brand_id     uuid     NOT NULL,
    hour_of_week smallint NOT NULL CHECK (hour_of_week BETWEEN 0 AND 167),
    weight       double precision NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (brand_id, hour_of_week)
);

CREATE TABLE auto_plans (
    plan_id       uuid PRIMARY KEY,
    brand_id      uuid        NOT NULL,
    tenant_id     uuid        NOT NULL,
    created_by    text        NOT NULL,
    days          integer     NOT NULL,
    posts_per_day integer     NOT NULL,
    status        text        NOT NULL CHECK (status IN ('proposed', 'accepted')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    accepted_at   timestamptz,
    accepted_by   text
);
CREATE INDEX auto_plans_brand ON auto_plans (brand_id, created_at DESC, plan_id DESC);

CREATE TABLE auto_plan_slots (
    plan_id       uuid        NOT NULL REFERENCES auto_plans (plan_id) ON DELETE CASCADE,
    brand_id      uuid        NOT NULL,
    connection_id uuid        NOT NULL,
    platform      text        NOT NULL,
    at            timestamptz NOT NULL,
    score         double precision NOT NULL,
    PRIMARY KEY (plan_id, connection_id, at)
);

-- Partition management. SECURITY DEFINER so the service roles (which may not CREATE in the
-- schema) can create a month on demand; search_path is pinned to this schema below.
CREATE FUNCTION analytics_ensure_partition(month date) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    first_day date := date_trunc('month', month)::date;
    partition_name text := 'analytics_metrics_' || to_char(first_day, 'YYYYMM');
BEGIN
    IF to_regclass(partition_name) IS NOT NULL THEN
        RETURN false;
    END IF;
    -- Bounds in UTC whatever the session's TimeZone.
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF analytics_metrics FOR VALUES FROM (%L) TO (%L)',
                   partition_name,
                   (first_day::timestamp AT TIME ZONE 'UTC'),
                   ((first_day + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
    RETURN true;
END $$;

-- Drops whole months that end on or before `cutoff` (retention); returns their names.
CREATE FUNCTION analytics_drop_partitions_before(cutoff date) RETURNS SETOF text
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE partition_name text;
BEGIN
    FOR partition_name IN
        SELECT c.relname
          FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'analytics_metrics'::regclass
           AND c.relname ~ '^analytics_metrics_[0-9]{6}$'
           AND (to_date(right(c.relname, 6), 'YYYYMM') + interval '1 month') <= cutoff
         ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE %I', partition_name);
        RETURN NEXT partition_name;
    END LOOP;
END $$;

DO $$
BEGIN
    EXECUTE format('ALTER FUNCTION analytics_ensure_partition(date) SET search_path = %I, pg_temp', current_schema());
    EXECUTE format('ALTER FUNCTION analytics_drop_partitions_before(date) SET search_path = %I, pg_temp', current_schema());
END $$;

-- Stores one snapshot and keeps `delta` right even when snapshots arrive out of order:
-- a late snapshot takes its growth from the one before it and hands the rest to the one after.
-- The first snapshot of a post counts in full (it was published through us: its engagement is
-- new); the first snapshot of an account-level series is a baseline (a new account's followers
-- are not this period's growth).
CREATE FUNCTION analytics_record_point(
    p_brand uuid, p_connection uuid, p_platform text, p_remote text, p_metric text,
    p_value double precision, p_observed_at timestamptz, p_sync uuid
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE previous double precision;
BEGIN
    SELECT value INTO previous FROM analytics_metrics
     WHERE brand_id = p_brand AND connection_id = p_connection AND remote_id = p_remote
       AND metric = p_metric AND observed_at < p_observed_at
     ORDER BY observed_at DESC LIMIT 1;
    INSERT INTO analytics_metrics (brand_id, connection_id, platform, remote_id, metric, value, delta, observed_at, sync_id)
    VALUES (p_brand, p_connection, p_platform, p_remote, p_metric, p_value,
            p_value - coalesce(previous, CASE WHEN p_remote = '' THEN p_value ELSE 0 END), p_observed_at, p_sync)
    ON CONFLICT (brand_id, connection_id, remote_id, metric, observed_at)
    DO UPDATE SET value = excluded.value, delta = excluded.delta, sync_id = excluded.sync_id, stored_at = now();
    UPDATE analytics_metrics m SET delta = m.value - p_value
     WHERE m.brand_id = p_brand AND m.connection_id = p_connection AND m.remote_id = p_remote
       AND m.metric = p_metric
       AND m.observed_at = (SELECT min(observed_at) FROM analytics_metrics
                             WHERE brand_id = p_brand AND connection_id = p_connection AND remote_id = p_remote
                               AND metric = p_metric AND observed_at > p_observed_at);
END $$;

-- The months around now, so the service can write from its first second.
SELECT analytics_ensure_partition((date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => m))::date)
  FROM generate_series(-1, 3) AS m;
