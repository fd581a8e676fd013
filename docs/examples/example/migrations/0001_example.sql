-- Each brand's name, from the gateway's brand_created. Unqualified names: the runner sets the
-- search_path to the service's schema. No row-level security here: the runner enables and
-- forces it, with the brand_isolation policy, on every table with a brand_id (ADR 0004).
CREATE TABLE brands (
    brand_id   uuid        PRIMARY KEY,
    name       text        NOT NULL,
    named_at   timestamptz NOT NULL
);
