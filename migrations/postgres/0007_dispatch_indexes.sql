-- Indexes the dispatch writes were missing. Every write of the volunteer centre recomputes
-- the board's volunteer counts, which join today's check-ins to active team memberships by
-- volunteer; without an index on team_members (volunteer_id) that join walked every
-- membership ever made for each volunteer checked in today, so each write slowed as the
-- days went on. A team's report looks for the other teams still on its need.
CREATE INDEX team_members_by_volunteer ON team_members (volunteer_id);
CREATE INDEX teams_by_need ON teams (need_id, status);
