-- Row-level security is the migration runner's (ADR 0004): it enables and forces it, with the
-- brand_isolation policy, on every table with a brand_id. The blocks that wrote it here too went
-- after this file was applied; that text stays recorded as applied where it ran (ADR 0018):
-- replaces sha256 b08aa632450e8f354316ade08045cb45b2fde1e8458cfac54cd930d355c6bdd5
-- The webhooks service's own tables. Unqualified names: the runner sets search_path.
-- Every table with a brand column has row-level security (ADR 0004); the inbound endpoint and
-- the delivery loop span brands and run as the schema's _worker role.

-- Which brand a platform account belongs to, learned from connections.connected/disconnected,
-- so an inbound webhook (which names an account, never a brand) can be routed without reading
-- the connections service's tables.
CREATE TABLE provider_accounts (
    provider      text        NOT NULL,
    account_id    text        NOT NULL,
    brand_id      uuid        NOT NULL,
    tenant_id     uuid        NOT NULL,
    connection_id uuid        NOT NULL,
    connected_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (provider, account_id, brand_id)
);

-- Inbound platform webhooks, stored raw once per (provider, provider event id).
CREATE TABLE webhook_events (
    id                  uuid        PRIMARY KEY,
    provider            text        NOT NULL,
    provider_event_id   text        NOT NULL,
    -- Brands the account is connected to; empty when the account is unknown (status unmatched).
    brand_ids           uuid[]      NOT NULL DEFAULT '{}',
    kind                text        NOT NULL,
    account_id          text,
    headers             jsonb       NOT NULL,
    raw_body            bytea       NOT NULL,
    signed_at           timestamptz NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now(),
    status              text        NOT NULL CHECK (status IN ('emitted', 'unmatched')),
    processing_attempts integer     NOT NULL DEFAULT 1,
    UNIQUE (provider, provider_event_id)
);
CREATE INDEX webhook_events_unmatched ON webhook_events (provider, account_id) WHERE status = 'unmatched';

-- Endpoints a brand registers for outbound deliveries. Secrets are AES-GCM ciphertexts
-- (nonce || ciphertext) tagged with the id of the key that sealed them.
CREATE TABLE webhook_endpoints (
    id                         uuid        PRIMARY KEY,
    brand_id                   uuid        NOT NULL,
    tenant_id                  uuid        NOT NULL,
    url                        text        NOT NULL,
    description                text        NOT NULL DEFAULT '',
    event_types                text[]      NOT NULL DEFAULT '{}',   -- empty: every deliverable type
    enabled                    boolean     NOT NULL DEFAULT true,
    disabled_reason            text,
    disabled_at                timestamptz,
    secret_sealed              bytea       NOT NULL,
    secret_key_id              text        NOT NULL,
    previous_secret_sealed     bytea,
    previous_secret_key_id     text,
    previous_secret_expires_at timestamptz,
    failing_since              timestamptz,                         -- first failure since the last success
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_brand ON webhook_endpoints (brand_id, created_at);

-- One row per (endpoint, domain event): the unit of delivery and retry.
CREATE TABLE deliveries (
    id              uuid        PRIMARY KEY,
    brand_id        uuid        NOT NULL,
    endpoint_id     uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    payload         bytea       NOT NULL,                           -- the exact JSON body sent
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,                 -- every try ever made
    round_attempts  integer     NOT NULL DEFAULT 0,                 -- tries since creation or the last replay
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX deliveries_due ON deliveries (endpoint_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, created_at);
CREATE INDEX deliveries_failed ON deliveries (endpoint_id, created_at) WHERE status = 'failed';

-- Every outbound try, for the brand's attempt log.
CREATE TABLE webhook_attempts (
    id               bigserial   PRIMARY KEY,
    brand_id         uuid        NOT NULL,
    delivery_id      uuid        NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    endpoint_id      uuid        NOT NULL,
    event_id         uuid        NOT NULL,
    attempt_number   integer     NOT NULL,
    requested_at     timestamptz NOT NULL,
    status_code      integer,
    latency_ms       double precision,
    response_excerpt text,
    error            text
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt_number);

ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY brand_isolation ON webhook_events
  USING (nullif(current_setting('aligned.brand_id', true), '')::uuid = ANY (brand_ids))
  WITH CHECK (nullif(current_setting('aligned.brand_id', true), '')::uuid = ANY (brand_ids));
