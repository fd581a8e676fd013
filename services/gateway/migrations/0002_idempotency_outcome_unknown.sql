-- A first request whose upstream timed out or failed after it may have been applied: its key
-- stays bound (a retry gets 409, never a second write) until the record is purged.
ALTER TABLE idempotency_keys ADD COLUMN outcome_unknown boolean NOT NULL DEFAULT false;
