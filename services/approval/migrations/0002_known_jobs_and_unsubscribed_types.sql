-- Row-level security is the migration runner's (ADR 0004): it enables and forces it, with the
-- brand_isolation policy, on every table with a brand_id. The blocks that wrote it here too went
-- after this file was applied; that text stays recorded as applied where it ran (ADR 0018):
-- replaces sha256 7640483aeceb909f174eefb00d146614621f8758a41e34f2fdeebc85da23f605
-- The jobs this service has heard of (publishing's job_created), per brand: a read of a job's
-- rounds answers 404 for a job that is not the caller brand's, exactly as for one that does
-- not exist, instead of an empty list that tells nothing apart.
CREATE TABLE known_jobs (
    brand_id    uuid        NOT NULL,
    job_id      uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (brand_id, job_id)
);
INSERT INTO known_jobs (brand_id, job_id) SELECT DISTINCT brand_id, job_id FROM post_approvals ON CONFLICT DO NOTHING;

-- A client may stop one kind of mail (e.g. reminders) from an unsubscribe link, or all of it
-- (unsubscribed_at); the brand's own preferences stay apart from the client's choice.
ALTER TABLE client_settings ADD COLUMN unsubscribed_types text[] NOT NULL DEFAULT '{}';
