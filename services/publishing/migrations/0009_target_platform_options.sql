-- A target's per-platform fields (a YouTube title, a TikTok privacy level), as the author wrote
-- them and the platform catalogue accepted them: a JSON object of strings and booleans; NULL
-- when there are none (nearly every post). The dispatcher copies it into attempt_requested.
-- Nullable without a default: adding it rewrites no row of the dispatcher's hot table.
ALTER TABLE publishing_targets ADD COLUMN platform_options jsonb
    CHECK (platform_options IS NULL OR jsonb_typeof(platform_options) = 'object');
