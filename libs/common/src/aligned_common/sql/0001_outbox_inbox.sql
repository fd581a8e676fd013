-- Backbone tables every service schema gets: the transactional outbox and the inbox.
-- Applied by the migration runner with search_path set to the service's schema.

CREATE TABLE outbox (
    seq          bigserial PRIMARY KEY,
    event_id     uuid        NOT NULL UNIQUE,
    topic        text        NOT NULL,
    key          text        NOT NULL,               -- brand_id: Kafka keeps order per brand
    -- Rows are published in lanes; one relay at a time owns a lane, so order per key holds
    -- even with several relay replicas (ADR 0003).
    lane         smallint    GENERATED ALWAYS AS ((abs(hashtext(key)) % 16)::smallint) STORED,
    event_type   text        NOT NULL,
    payload      bytea       NOT NULL,               -- the envelope as JSON
    traceparent  text,
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at timestamptz,
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text
);

CREATE INDEX outbox_pending ON outbox (lane, seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

CREATE TABLE processed_events (
    handler      text        NOT NULL,
    event_id     uuid        NOT NULL,
    event_type   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (handler, event_id)
);
