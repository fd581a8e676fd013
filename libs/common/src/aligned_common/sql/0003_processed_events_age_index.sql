-- Retention (aligned_common.retention) deletes dedupe rows older than
-- processed_events_retention_s in batches. A BRIN index finds them without a scan of the whole
-- table, and costs the inbox's hot INSERT next to nothing: rows arrive in processed_at order.
CREATE INDEX IF NOT EXISTS processed_events_processed_at ON processed_events USING brin (processed_at);
