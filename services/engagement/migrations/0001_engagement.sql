-- The engagement inbox: what the platforms said to or about a brand (comments, mentions,
-- reviews), its conversation state, the brand's response templates and SLA, and our replies.
-- Unqualified names (the runner sets the search_path); row-level security by brand_id is
-- enabled and forced by the runner on every table here (ADR 0004).

-- Projections: connections' accounts (to know which connection a webhook's account is) and
-- the gateway's brand names (the {brand} of a template).
CREATE TABLE known_connections (
    connection_id uuid        PRIMARY KEY,
    brand_id      uuid        NOT NULL,
    platform      text        NOT NULL,
    account_id    text,
    status        text        NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX known_connections_account ON known_connections (brand_id, platform, account_id);

CREATE TABLE brands (
    brand_id   uuid PRIMARY KEY,
    name       text NOT NULL
);

-- One row per platform item, whichever path brought it (webhook or poll): the platform's id
-- with the connection is the key, so the second delivery finds the first.
CREATE TABLE platform_events (
    id                uuid        PRIMARY KEY,
    brand_id          uuid        NOT NULL,
    tenant_id         uuid        NOT NULL,
    connection_id     uuid        NOT NULL,
    platform          text        NOT NULL,
    kind              text        NOT NULL CHECK (kind IN ('comment', 'reply', 'mention', 'quote', 'direct_message', 'review')),
    platform_item_id  text        NOT NULL,
    remote_post_id    text,
    parent_id         text,
    author_id         text,
    author_name       text        NOT NULL DEFAULT '',
    body              text        NOT NULL DEFAULT '',
    rating            smallint,
    language          text,
    url               text,
    created_at        timestamptz NOT NULL,  -- the platform's
    edited_at         timestamptz,
    deleted           boolean     NOT NULL DEFAULT false,
    received_at       timestamptz NOT NULL,  -- ours: the SLA counts from here
    sources           text[]      NOT NULL,  -- 'webhook', 'poll': which paths delivered it
    state             text        NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'assigned', 'replied', 'done', 'spam')),
    assignee_id       text,
    first_response_at timestamptz,
    sla_breached_at   timestamptz,
    UNIQUE (connection_id, platform_item_id)
);
CREATE INDEX platform_events_inbox ON platform_events (brand_id, received_at DESC, id DESC);
CREATE INDEX platform_events_state ON platform_events (brand_id, state);
CREATE INDEX platform_events_sla ON platform_events (received_at)
    WHERE first_response_at IS NULL AND sla_breached_at IS NULL AND state IN ('open', 'assigned');

-- The review side of a review item: its rating, reviewer and reply state.
CREATE TABLE platform_reviews (
    item_id       uuid        PRIMARY KEY REFERENCES platform_events (id),
    brand_id      uuid        NOT NULL,
    rating        smallint    CHECK (rating BETWEEN 1 AND 5),
    reviewer_name text        NOT NULL DEFAULT '',
    body          text        NOT NULL DEFAULT '',
    reply_state   text        NOT NULL DEFAULT 'unanswered' CHECK (reply_state IN ('unanswered', 'pending', 'replied', 'failed')),
    replied_at    timestamptz
);

CREATE TABLE conversation_history (
    id          bigserial   PRIMARY KEY,
    brand_id    uuid        NOT NULL,
    item_id     uuid        NOT NULL REFERENCES platform_events (id),
    from_state  text        NOT NULL,
    to_state    text        NOT NULL,
    assignee_id text,
    actor       text,
    at          timestamptz NOT NULL
);
CREATE INDEX conversation_history_item ON conversation_history (item_id, id);

-- Per brand; `variants` maps a language ("de") to its body; {reviewer_name}, {brand} and
-- {post_link} are filled in when a reply is made from it.
CREATE TABLE review_response_templates (
    id         uuid        PRIMARY KEY,
    brand_id   uuid        NOT NULL,
    name       text        NOT NULL,
    body       text        NOT NULL,
    variants   jsonb       NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL,
    UNIQUE (brand_id, name)
);

CREATE TABLE replies (
    id              uuid        PRIMARY KEY,
    brand_id        uuid        NOT NULL,
    item_id         uuid        NOT NULL REFERENCES platform_events (id),
    body            text        NOT NULL,
    template_id     uuid,
    idempotency_key text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    remote_id       text,
    error           text,
    requested_by    text,
    created_at      timestamptz NOT NULL,
    settled_at      timestamptz,
    UNIQUE (brand_id, idempotency_key)
);
CREATE INDEX replies_item ON replies (item_id, created_at);

CREATE TABLE sla_settings (
    brand_id             uuid        PRIMARY KEY,
    first_response_hours real        NOT NULL CHECK (first_response_hours > 0),
    updated_at           timestamptz NOT NULL
);
