-- The seed's client settings: a language for every mail (en, de: one message catalogue each).
ALTER TABLE client_settings ADD COLUMN language text NOT NULL DEFAULT 'en';

-- The seed's preference names: approval requests and reminders were stored under the kinds' names.
UPDATE client_settings
SET preferences = (preferences - 'approval_requested' - 'reminder')
    || jsonb_strip_nulls(jsonb_build_object('approvals_needed', preferences -> 'approval_requested',
                                            'approval_reminders', preferences -> 'reminder'))
WHERE preferences ?| ARRAY['approval_requested', 'reminder'];

-- Publish outcomes and digests are mails too. 'held': over the client's daily limit, waiting
-- for the next digest; 'folded': listed in that digest (folded_into names it).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN (
    'approval_requested', 'reminder', 'escalated', 'decided', 'publish_failed', 'publish_succeeded', 'digest'));
ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check CHECK (status IN (
    'pending', 'sent', 'suppressed', 'failed', 'held', 'folded'));
ALTER TABLE notifications ADD COLUMN folded_into uuid;
ALTER TABLE notifications ADD COLUMN job_id uuid;
-- The daily limit counts an address's mails sent since its local midnight.
CREATE INDEX notifications_sent_to ON notifications (brand_id, to_address, sent_at) WHERE status = 'sent';
CREATE INDEX notifications_held ON notifications (brand_id, to_address) WHERE status = 'held';

-- One row per client, cadence and local period: the digest loop claims a period here, so two
-- replicas or a restart send one digest per period, never two.
CREATE TABLE digests (
    brand_id        uuid        NOT NULL,
    client_id       uuid        NOT NULL REFERENCES client_settings (id),
    cadence         text        NOT NULL CHECK (cadence IN ('daily', 'weekly')),
    period_start    date        NOT NULL,   -- the client's local date (a week: its Monday)
    notification_id uuid,                   -- NULL: nothing to tell that period, no mail
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (client_id, cadence, period_start)
);

-- What a publish outcome mail says and who wrote the post: projected from publishing's
-- job_created / job_updated (this service never reads publishing's tables).
ALTER TABLE known_jobs ADD COLUMN content text;
ALTER TABLE known_jobs ADD COLUMN author_id text;
