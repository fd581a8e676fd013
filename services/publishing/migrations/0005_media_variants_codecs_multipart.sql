-- Platform-fit variants made on upload (adapters/variants.py): platform -> where the fitted copy
-- is and what it is ({"key", "url", "mime_type", "size_bytes", "sha256", "width", "height"}).
-- A platform not listed gets the original. Like the preview, variants are not counted in the quota.
ALTER TABLE media_assets ADD COLUMN variants jsonb NOT NULL DEFAULT '{}';
-- A video's codec as FFmpeg names it (h264, hevc, vp9...), checked against each target's limits.
ALTER TABLE media_assets ADD COLUMN video_codec text;
-- A presigned multipart upload (big video): the store's upload id, so complete can finish it
-- and expiry can abort it (an aborted multipart upload leaves no parts in the store).
ALTER TABLE media_uploads ADD COLUMN multipart_id text;
ALTER TABLE media_uploads ADD COLUMN part_size bigint;

-- Which jobs used an asset, and when: one row per attach, detach and publish (append-only; the
-- migration runner puts it under the brand's row-level security like every brand_id table).
-- An asset's usage_count is the number of jobs it is attached to now (media_usage).
CREATE TABLE media_usage_logs (
    id       bigserial   PRIMARY KEY,
    media_id uuid        NOT NULL REFERENCES media_assets ON DELETE CASCADE,
    job_id   uuid        NOT NULL,
    brand_id uuid        NOT NULL,
    action   text        NOT NULL CHECK (action IN ('attached', 'detached', 'published')),
    at       timestamptz NOT NULL
);
CREATE INDEX media_usage_logs_media ON media_usage_logs (media_id, at DESC);

-- An account's own alt text for a media item (media_id -> text), where it differs from the
-- asset's (e.g. another language): sent to that target's platform instead.
ALTER TABLE publishing_targets ADD COLUMN alt_text_variant jsonb;
