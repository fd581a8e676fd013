-- Issue 26 (ADR 0030): publishing's copy of each brand's guardrails, from brandkit's
-- version_published (only a newer version replaces it), and the warnings a job's texts drew,
-- shown on the job and to approvers. Row-level security on brand_guardrails is the runner's.
CREATE TABLE brand_guardrails (
    brand_id   uuid        PRIMARY KEY,
    version    int         NOT NULL,
    rules      jsonb       NOT NULL,   -- aligned_common.guardrails.GuardrailRules
    updated_at timestamptz NOT NULL
);

ALTER TABLE publishing_jobs ADD COLUMN guardrail_warnings jsonb NOT NULL DEFAULT '[]';
