-- Row-level security is the migration runner's (ADR 0004): it enables and forces it, with the
-- brand_isolation policy, on every table with a brand_id. The blocks that wrote it here too went
-- after this file was applied; that text stays recorded as applied where it ran (ADR 0018):
-- replaces sha256 86a9db350927b7422bfc7ac808bd1fbac8d40c6d39cb93a20ee9b328d89f32f1
-- Each brand's time zone, from the gateway's brand_created: reports, best hours, plans and goal
-- periods are calendar days and hours in the brand's zone, not UTC.
CREATE TABLE brands (
    brand_id   uuid        PRIMARY KEY,
    time_zone  text        NOT NULL DEFAULT 'UTC',
    updated_at timestamptz NOT NULL DEFAULT now()
);
