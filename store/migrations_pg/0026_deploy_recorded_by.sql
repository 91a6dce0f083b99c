-- Issue 23: a deploy names the credential that recorded it (which
-- integration key, the admin token, the GitHub webhook), since a deploy
-- decides whom an alert pages.
ALTER TABLE deploys ADD COLUMN recorded_by TEXT NOT NULL DEFAULT '';
