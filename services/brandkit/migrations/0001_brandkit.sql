-- Each brand's kit, versioned (issue 26, ADR 0030). A version is never changed: an update or a
-- restore adds the next one. Unqualified names: the runner sets the search_path to the schema,
-- and enables and forces row-level security (brand_isolation) on both tables (ADR 0004).
CREATE TABLE brand_kits (
    brand_id        uuid        PRIMARY KEY,
    current_version int         NOT NULL CHECK (current_version >= 1),
    updated_at      timestamptz NOT NULL
);

CREATE TABLE brand_kit_versions (
    brand_id      uuid        NOT NULL REFERENCES brand_kits (brand_id),
    version       int         NOT NULL CHECK (version >= 1),
    kit           jsonb       NOT NULL,   -- aligned_common.events.brandkit.BrandKit
    author_id     text        NOT NULL,
    created_at    timestamptz NOT NULL,
    restored_from int,                     -- the version a restore copied
    PRIMARY KEY (brand_id, version)
);
