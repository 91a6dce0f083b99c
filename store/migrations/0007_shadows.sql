-- Shadow copies of pages, sent to learners shadowing a rotation.
ALTER TABLE notifications ADD COLUMN shadow INTEGER NOT NULL DEFAULT 0;
