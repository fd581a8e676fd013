-- A target's first comment: published as a reply to the target's post once that post is out,
-- as an attempt of its own (its own idempotency key, so connections settles a lost answer by
-- asking the platform, never by posting again). A row of its own, not columns of the target:
-- the dispatcher's hot table stays as it is. Replacing a job's targets replaces their comments.
CREATE TABLE publishing_comments (
    target_id        uuid        PRIMARY KEY REFERENCES publishing_targets ON DELETE CASCADE,
    job_id           uuid        NOT NULL,
    brand_id         uuid        NOT NULL,
    text             text        NOT NULL,
    idempotency_key  text        NOT NULL UNIQUE,        -- the target's key + ':comment'
    -- waiting: the post is not out yet; scheduled: due at next_attempt_at (a retry);
    -- publishing: requested (re-requested, same attempt, at next_attempt_at if no answer).
    status           text        NOT NULL DEFAULT 'waiting' CHECK (status IN (
                         'waiting', 'scheduled', 'publishing', 'published', 'failed')),
    attempts         integer     NOT NULL DEFAULT 0,
    rechecks         integer     NOT NULL DEFAULT 0,     -- re-requests of the attempt in flight
    next_attempt_at  timestamptz,
    remote_id        text,
    url              text,
    last_error       text,
    platform_message text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- The comment loop's only query: due comments (retries and re-checks), oldest first.
CREATE INDEX comments_due ON publishing_comments (next_attempt_at) WHERE status IN ('scheduled', 'publishing');
CREATE INDEX comments_job ON publishing_comments (job_id);
-- Whether a target has a first comment, on the target's row: the outcome path reads the target
-- anyway, so a post without a comment (nearly every one) costs no query to find that out.
ALTER TABLE publishing_targets ADD COLUMN has_first_comment boolean NOT NULL DEFAULT false;
