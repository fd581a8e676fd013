-- One row per open live event stream, whichever replica holds it: the caps per user and per
-- brand count these rows, so they hold across replicas (ADR 0008). The replica renews the
-- leases of its open streams and deletes a stream's lease when it closes; the lease of a
-- replica that died expires. brand_id: the migration runner puts it under RLS.
CREATE TABLE stream_leases (
    lease_id   uuid PRIMARY KEY,
    brand_id   uuid NOT NULL,
    user_id    text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX stream_leases_brand_user ON stream_leases (brand_id, user_id);
