-- Row-level security is the migration runner's (ADR 0004): it enables and forces it, with the
-- brand_isolation policy, on every table with a brand_id. The blocks that wrote it here too went
-- after this file was applied; that text stays recorded as applied where it ran (ADR 0018):
-- replaces sha256 831bdc5935b244e291e189ecfb1a8fbb3e4cc3f5456d0489226bcb1b494de685
-- The gateway's identity side: tenants (agencies), brands, members with a role per brand,
-- invites; plus idempotency records and rate-limit buckets shared by every replica.

CREATE TABLE tenants (
    tenant_id  uuid PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE brands (
    brand_id    uuid PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (tenant_id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    time_zone   text NOT NULL DEFAULT 'UTC',
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz
);
CREATE INDEX brands_tenant ON brands (tenant_id);

CREATE TABLE brand_members (
    member_id  uuid PRIMARY KEY,
    brand_id   uuid NOT NULL REFERENCES brands (brand_id),
    user_id    text NOT NULL,
    email      text NOT NULL,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'approver', 'client', 'viewer')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (brand_id, user_id)
);
CREATE INDEX brand_members_user ON brand_members (user_id);

CREATE TABLE invites (
    invite_id   uuid PRIMARY KEY,
    brand_id    uuid NOT NULL REFERENCES brands (brand_id),
    email       text NOT NULL,
    role        text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'approver', 'client', 'viewer')),
    token_hash  bytea NOT NULL UNIQUE,  -- sha256 of the secret part; the token itself is never stored
    invited_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    accepted_by text,
    revoked_at  timestamptz
);
CREATE INDEX invites_brand ON invites (brand_id, created_at DESC);

-- First response to a POST with an Idempotency-Key, per brand and user.
CREATE TABLE idempotency_keys (
    brand_id     uuid NOT NULL,
    user_id      text NOT NULL,
    key          text NOT NULL,
    method       text NOT NULL,
    path         text NOT NULL,
    body_hash    bytea NOT NULL,
    status       int,              -- NULL while the first request is still running
    headers      jsonb,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (brand_id, user_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- Token buckets; every replica updates the same row atomically (ADR 0005).
CREATE TABLE rate_limit_buckets (
    brand_id     uuid NOT NULL,
    bucket       text NOT NULL,    -- 'brand' or 'user:<id>'
    tokens       double precision NOT NULL,
    allowed      boolean NOT NULL,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (brand_id, bucket)
);
