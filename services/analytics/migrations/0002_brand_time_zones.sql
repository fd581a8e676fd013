-- Each brand's time zone, from the gateway's brand_created: reports, best hours, plans and goal
-- periods are calendar days and hours in the brand's zone, not UTC.
CREATE TABLE brands (
    brand_id   uuid        PRIMARY KEY,
    time_zone  text        NOT NULL DEFAULT 'UTC',
    updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE brands ENABLE ROW LEVEL SECURITY;
CREATE POLICY brand_isolation ON brands
    USING (brand_id = nullif(current_setting('aligned.brand_id', true), '')::uuid)
    WITH CHECK (brand_id = nullif(current_setting('aligned.brand_id', true), '')::uuid);
