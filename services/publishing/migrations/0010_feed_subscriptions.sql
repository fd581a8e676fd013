-- RSS/Atom auto-posting (issue 24, ADR 0028): a brand's feed subscriptions and every entry a
-- poll saw. The poll loop claims due subscriptions (next_poll_at) with SKIP LOCKED and leases
-- them by moving next_poll_at ahead, so two replicas never poll one feed at once; the primary
-- key (feed_id, entry_key) is what makes an entry's post be created once, whatever polls race.
-- The migration runner puts both tables under the brand's row-level security (brand_id).
CREATE TABLE feed_subscriptions (
    feed_id              uuid        PRIMARY KEY,
    brand_id             uuid        NOT NULL,
    tenant_id            uuid        NOT NULL,
    created_by           text        NOT NULL,   -- the author of the posts it makes
    url                  text        NOT NULL,
    connection_ids       uuid[]      NOT NULL,   -- the accounts each entry's post goes to
    template             text        NOT NULL,   -- {title} {link} {summary}
    mode                 text        NOT NULL CHECK (mode IN ('draft', 'scheduled')),
    schedule_after_s     integer     NOT NULL,   -- scheduled mode: the post's time after the poll
    interval_s           integer     NOT NULL,
    paused               boolean     NOT NULL DEFAULT false,
    post_existing        boolean     NOT NULL,   -- false: the first poll only records what is there
    etag                 text,
    last_modified        text,
    consecutive_failures integer     NOT NULL DEFAULT 0,
    last_error           text,                   -- why the last poll failed (cleared by a good one)
    last_error_at        timestamptz,
    last_polled_at       timestamptz,
    last_success_at      timestamptz,
    next_poll_at         timestamptz NOT NULL,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL
);
CREATE INDEX feed_subscriptions_due ON feed_subscriptions (next_poll_at) WHERE NOT paused;
CREATE INDEX feed_subscriptions_brand ON feed_subscriptions (brand_id, created_at);

CREATE TABLE feed_entries (
    feed_id    uuid        NOT NULL REFERENCES feed_subscriptions (feed_id) ON DELETE CASCADE,
    entry_key  text        NOT NULL,   -- domain/feeds.py: entry_key (sha256 of guid or link)
    brand_id   uuid        NOT NULL,
    title      text        NOT NULL,
    link       text,
    job_id     uuid,                   -- the post it became (no FK: a purged job leaves the record)
    skipped    text,                   -- or why it did not become one
    seen_at    timestamptz NOT NULL,
    PRIMARY KEY (feed_id, entry_key)
);
CREATE INDEX feed_entries_seen ON feed_entries (feed_id, seen_at);
