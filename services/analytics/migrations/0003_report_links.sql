-- Client report links (issue 27, ADR 0031): an owner shares a read-only report of a date range
-- through /report/<token>. The token is 32 random bytes; only its sha256 is kept, so the table
-- holds no usable URL. Revoking sets revoked_at; a link past expires_at is gone too.
CREATE TABLE report_links (
    link_id     uuid        PRIMARY KEY,
    brand_id    uuid        NOT NULL,
    token_hash  text        NOT NULL UNIQUE,
    first_day   date        NOT NULL,  -- the range, calendar days in the brand's time zone
    last_day    date        NOT NULL,  -- inclusive
    platforms   text[]      NOT NULL DEFAULT '{}',  -- empty: every platform
    goal_ids    uuid[],                             -- NULL: every goal of the brand
    language    text        NOT NULL,
    created_by  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    CHECK (first_day <= last_day)
);
CREATE INDEX report_links_brand ON report_links (brand_id, created_at, link_id);

-- What each target posts, from publishing.job_created: the report's top posts show their text
-- (and how many media they carry; analytics has no media URLs to show them with).
ALTER TABLE job_targets ADD COLUMN text text, ADD COLUMN media_count integer NOT NULL DEFAULT 0;
