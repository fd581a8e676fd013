-- Job rows are wide (content, search vector: ~400 bytes) and the dispatcher updates every job
-- of a batch in one transaction: at fillfactor 80 a page had room for the new versions of
-- only 4 of its ~17 rows, so three updates in four were not HOT and rewrote every index entry,
-- the GIN search index included. At 50 a page keeps room for a new version of each of its
-- rows; measured by the dispatch benchmark (docs/performance.md). Applies to pages written
-- from now on.
ALTER TABLE publishing_jobs SET (fillfactor = 50);
