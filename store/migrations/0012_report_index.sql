-- The counted-pages index also holds the alert, so a report (and a burn's
-- list of pages) reads the index alone, not a table row per page.
DROP INDEX pages_counted_by_person;
CREATE INDEX pages_counted_by_person ON pages (person, at_ms, alert_id) WHERE bundled = 0;
