-- The outbox no longer indexes event_id. Ids are fresh random UUIDs made with each envelope,
-- nothing looks an outbox row up by event id (the relay goes by lane and seq), and duplicates
-- are what consumers' inboxes (processed_events) dedupe anyway. The unique index cost a
-- random-position B-tree insert for every event of every service: 7% of the dispatcher's
-- throughput (dispatch benchmark, docs/performance.md).
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_event_id_key;
