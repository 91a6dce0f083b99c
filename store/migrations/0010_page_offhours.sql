-- Whether a page fell outside its person's business hours, judged when it
-- was recorded (NULL for pages recorded before this column): accounting
-- counts instead of reading every page.
ALTER TABLE pages ADD COLUMN offhours INTEGER;
CREATE INDEX pages_counted_by_person ON pages (person, at_ms) WHERE bundled = 0;
CREATE INDEX pages_offhours_by_person ON pages (person, at_ms) WHERE bundled = 0 AND offhours = 1;
CREATE INDEX pages_unknown_offhours ON pages (person, at_ms) WHERE offhours IS NULL;
