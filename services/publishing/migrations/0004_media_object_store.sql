-- Row-level security is the migration runner's (ADR 0004): it enables and forces it, with the
-- brand_isolation policy, on every table with a brand_id. The blocks that wrote it here too went
-- after this file was applied; that text stays recorded as applied where it ran (ADR 0018):
-- replaces sha256 8e75f494911bbd49abf5c824328346e9fcbfef8baba43ac60fda3f94f59dcc5a
-- Media bytes move to an S3-compatible object store (ADR 0007); the row keeps where the object
-- is (url: s3://bucket/key, never a credential) and, once deleted, when: a deleted asset is
-- hidden and its quota freed at once, and the purge loop removes its object, then its row.
ALTER TABLE media_assets ADD COLUMN deleted_at timestamptz;
CREATE INDEX media_purge ON media_assets (deleted_at) WHERE deleted_at IS NOT NULL;
-- A preview of each still image, stored beside it (<key>.thumb); not counted in the quota.
ALTER TABLE media_assets ADD COLUMN thumbnail_key text;
-- The description screen readers read, sent to every platform that takes one.
ALTER TABLE media_assets ADD COLUMN alt_text text NOT NULL DEFAULT '' CHECK (length(alt_text) <= 1500);

-- A presigned upload: the client PUTs the bytes straight to the store (never through the
-- gateway) under staging_key, then calls complete, which checks size, type and sha256 before
-- the asset exists. Rows (and their objects) not completed by expires_at are purged; they
-- hold no quota.
CREATE TABLE media_uploads (
    upload_id   uuid        PRIMARY KEY,
    brand_id    uuid        NOT NULL,
    staging_key text        NOT NULL,
    filename    text,
    mime_type   text        NOT NULL,
    size_bytes  bigint      NOT NULL CHECK (size_bytes > 0),
    sha256      text        NOT NULL,
    alt_text    text        NOT NULL DEFAULT '',
    uploaded_by text        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX media_uploads_expiry ON media_uploads (expires_at);
