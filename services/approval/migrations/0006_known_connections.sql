-- Approval's own copy of connections' events (aligned_common.known_connections, the shape
-- publishing 0003 made): a policy may name only a connection of its brand that was not
-- disconnected, checked without calling connections. RLS comes from the migration runner.
-- Filled by the workflow consumer from aligned.connections.events, which its group starts reading
-- at the topic's beginning (no offset committed for it yet): the brands' connections so far.
CREATE TABLE known_connections (
    connection_id uuid        PRIMARY KEY,
    brand_id      uuid        NOT NULL,
    platform      text        NOT NULL,
    status        text        NOT NULL CHECK (status IN ('active', 'expired', 'revoked', 'disconnected')),
    updated_at    timestamptz NOT NULL
);
CREATE INDEX known_connections_brand ON known_connections (brand_id);
