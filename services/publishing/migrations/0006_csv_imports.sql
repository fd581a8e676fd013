-- CSV imports (issue 24): each row of a file a brand imported, keyed by (brand, file, row). The
-- key is the import's idempotency: a re-upload of the same file (or the same file twice at once)
-- claims no row twice, so no row's job is created twice. The row's job id is derived from the
-- same key (domain/imports.py). A row's first comment is kept here with it until jobs carry one.
-- The migration runner puts the table under the brand's row-level security (brand_id).
CREATE TABLE import_rows (
    brand_id      uuid        NOT NULL,
    file_hash     text        NOT NULL,   -- sha256 of the file's bytes, hex
    row_no        integer     NOT NULL,   -- as a spreadsheet numbers it (the header is row 1)
    job_id        uuid        NOT NULL,
    first_comment text,
    imported_at   timestamptz NOT NULL,
    PRIMARY KEY (brand_id, file_hash, row_no)
);
