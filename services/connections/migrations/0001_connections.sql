-- Row-level security is the migration runner's (ADR 0004): it enables and forces it, with the
-- brand_isolation policy, on every table with a brand_id. The blocks that wrote it here too went
-- after this file was applied; that text stays recorded as applied where it ran (ADR 0018):
-- replaces sha256 6c7cd35dc271f72a2d2410f0ea18d730a1c4d081fef948f4f721d376be532dca
-- The connections service's own tables. Tokens are stored only as AES-GCM ciphertexts
-- ("v1:<key id>:<base64 nonce+ciphertext>"), never in plain text.

CREATE TABLE platform_connections (
    id                uuid        PRIMARY KEY,
    brand_id          uuid        NOT NULL,
    tenant_id         uuid        NOT NULL,
    platform          text        NOT NULL,
    account_id        text        NOT NULL,
    account_name      text        NOT NULL,
    scopes            text[]      NOT NULL DEFAULT '{}',
    access_token      text,                        -- ciphertext; NULL once disconnected
    refresh_token     text,                        -- ciphertext; NULL when the platform gave none
    expires_at        timestamptz,                 -- NULL: the platform did not say
    tokens_issued_at  timestamptz NOT NULL DEFAULT now(),
    status            text        NOT NULL DEFAULT 'connected'
                      CHECK (status IN ('connected', 'expired', 'revoked', 'disconnected', 'error')),
    last_verified_at  timestamptz,
    last_error        text,
    -- Refresh scheduling: transient failures back off without changing status.
    refresh_failures  integer     NOT NULL DEFAULT 0,
    next_refresh_at   timestamptz,
    connected_by      text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (brand_id, platform, account_id)
);

CREATE INDEX platform_connections_brand ON platform_connections (brand_id, platform, status);
-- The refresh scheduler's and "expiring within N hours" queries.
CREATE INDEX platform_connections_expiry ON platform_connections (expires_at) WHERE status = 'connected';
-- A platform webhook names an account, not a brand.
CREATE INDEX platform_connections_account ON platform_connections (platform, account_id);

-- An OAuth authorization in progress: the state's nonce (single use) and the PKCE verifier.
CREATE TABLE oauth_states (
    nonce          text        PRIMARY KEY,
    brand_id       uuid        NOT NULL,
    tenant_id      uuid        NOT NULL,
    user_id        text        NOT NULL,
    platform       text        NOT NULL,
    redirect_uri   text        NOT NULL,
    code_verifier  text        NOT NULL,           -- ciphertext
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz
);

CREATE INDEX oauth_states_expires ON oauth_states (expires_at);

-- Every publish asked of us, under its idempotency key: written BEFORE the platform call,
-- so that a crash, a redelivery or a lost answer can always be settled without a second post.
CREATE TABLE publish_attempts (
    idempotency_key  text        PRIMARY KEY,
    brand_id         uuid        NOT NULL,
    tenant_id        uuid        NOT NULL,
    connection_id    uuid        NOT NULL,
    job_id           uuid        NOT NULL,
    target_id        uuid        NOT NULL,
    platform         text        NOT NULL,
    status           text        NOT NULL
                     CHECK (status IN ('pending', 'in_flight', 'unknown', 'failed', 'published', 'rejected')),
    lease_until      timestamptz,                  -- while in_flight: the caller's deadline
    remote_id        text,                         -- the post's id (known in advance on some platforms)
    url              text,
    calls            integer     NOT NULL DEFAULT 0,   -- publish calls made to the platform
    last_attempt     integer     NOT NULL DEFAULT 0,   -- publishing's attempt number
    last_error       text,
    platform_message text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    published_at     timestamptz
);

CREATE INDEX publish_attempts_connection ON publish_attempts (connection_id, published_at DESC);
CREATE UNIQUE INDEX publish_attempts_remote ON publish_attempts (connection_id, remote_id)
    WHERE status = 'published';

-- Per-account token bucket, shared by every replica: one row per connection, updated atomically.
CREATE TABLE rate_buckets (
    connection_id  uuid        PRIMARY KEY,
    brand_id       uuid        NOT NULL,
    tokens         double precision NOT NULL,
    updated_at     timestamptz NOT NULL,
    blocked_until  timestamptz                     -- the platform's Retry-After
);
