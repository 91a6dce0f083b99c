-- Issue 22: daemons take turns at accounting: PendingAccounting claims
-- each page's accounting for one daemon for a while (its lease), where
-- before every daemon accounted every page, three times the statements
-- with three daemons. A daemon that stops mid-way leaves its claims to
-- the others when the lease ends.
ALTER TABLE accounting ADD COLUMN claim_until_ms BIGINT;
