-- Notifications held by a claim past their next attempt (in flight on a
-- daemon), so that PostgreSQL's NextDue finds when the first claim lapses
-- from an index rather than by scanning the outbox (issue 22). SQLite keeps
-- its claims in memory; the index stays empty there, and the two schemas
-- stay alike.
CREATE INDEX notifications_claimed ON notifications (claim_until_ms) WHERE status = 'pending' AND claim_until_ms IS NOT NULL;
