-- SQLite uses a partial index only for a query whose terms repeat the index's WHERE as it
-- is written. The one-active-team-per-volunteer index said `active = 1` while every query
-- says `active = TRUE` (as PostgreSQL needs), so the board's volunteer counts, recomputed on
-- every dispatch write, walked each volunteer's past memberships instead of finding the one
-- active row: the more teams a volunteer had been in, the slower every write. PostgreSQL's
-- index (`WHERE active`) already serves `active = TRUE`; it has no migration 0009.
DROP INDEX team_members_one_active;
CREATE UNIQUE INDEX team_members_one_active ON team_members (volunteer_id) WHERE active = TRUE;
