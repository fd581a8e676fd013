-- Who may waive approval of a job a policy covers (publishing enforces it, from approval.policy_changed),
-- and the hash of exactly what a round shows: a decision covers that content and nothing else (ADR 0006).
ALTER TABLE approval_policies ADD COLUMN waiver_roles text[] NOT NULL DEFAULT '{owner,admin}';
ALTER TABLE post_approvals ADD COLUMN content_hash text;
