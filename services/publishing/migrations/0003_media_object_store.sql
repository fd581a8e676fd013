-- Media bytes move to an S3-compatible object store (ADR 0007); the row keeps where the object
-- is (url: s3://bucket/key, never a credential) and, once deleted, when: a deleted asset is
-- hidden and its quota freed at once, and the purge loop removes its object, then its row.
ALTER TABLE media_assets ADD COLUMN deleted_at timestamptz;
CREATE INDEX media_purge ON media_assets (deleted_at) WHERE deleted_at IS NOT NULL;
-- A preview of each still image, stored beside it (<key>.thumb); not counted in the quota.
ALTER TABLE media_assets ADD COLUMN thumbnail_key text;
-- The description screen readers read, sent to every platform that takes one.
ALTER TABLE media_assets ADD COLUMN alt_text text NOT NULL DEFAULT '' CHECK (length(alt_text) <= 1500);
