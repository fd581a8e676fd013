-- Calendar feeds (issue 24): a secret URL per feed, /calendar/<token>.ics, that a calendar app
-- polls without logging in. Only the token's sha256 is kept; revoking sets revoked_at and the
-- URL stops at once. `brand` feeds show the brand's scheduled posts, `approvals` feeds what
-- waits for approval. The migration runner puts the table under the brand's row-level
-- security; the public lookup by token runs as the worker (it does not know the brand yet).
CREATE TABLE calendar_feeds (
    feed_id     uuid        PRIMARY KEY,
    brand_id    uuid        NOT NULL,
    token_hash  text        NOT NULL UNIQUE,
    scope       text        NOT NULL CHECK (scope IN ('brand', 'approvals')),
    user_id     text        NOT NULL,   -- whose feed it is (who made it)
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX calendar_feeds_brand ON calendar_feeds (brand_id, created_at);
