-- The replay ledger: a dead letter is replayed at most once, however often an operator asks.
-- (Replaying twice would be harmless to consumers, which dedupe by event id, but a malformed
-- message replayed twice would be dead-lettered twice and the DLQ would grow with noise.)
CREATE TABLE dlq_replays (
    dlq_id             text        PRIMARY KEY,           -- the x-dlq-id header
    dlq_topic          text        NOT NULL,
    original_topic     text        NOT NULL,
    original_partition integer     NOT NULL,
    original_offset    bigint      NOT NULL,
    event_id           text,                              -- absent for bytes that never parsed
    replayed_by        text        NOT NULL,
    replayed_at        timestamptz NOT NULL DEFAULT now()
);
