-- Retention (aligned_common.retention) deletes inbound webhooks and finished deliveries by age
-- in batches: BRIN indexes find the old rows without a full scan and cost the inserts next to
-- nothing (rows arrive in time order).
CREATE INDEX IF NOT EXISTS webhook_events_received_at ON webhook_events USING brin (received_at);
CREATE INDEX IF NOT EXISTS deliveries_finished_at ON deliveries USING brin (finished_at);
