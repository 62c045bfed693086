-- Failed logins, counted per account and per client address, so that a password cannot be
-- guessed at speed. Kept in the database rather than in each server's memory: instances on one
-- database share the count (nginx spreads a guesser's attempts over all of them) and a restart
-- does not forgive it.
--
-- One row per counted key. key_hash is the hex SHA-256 of 'account:USERNAME' or
-- 'address:IP': a copy of this table does not list the usernames people mistyped (sometimes
-- their password) nor where they logged in from. A window opens at the first failure and lasts
-- a fixed time; failures inside it add up, and a row whose window has ended counts for nothing
-- and is swept away.
CREATE TABLE login_failures (
    key_hash     TEXT   PRIMARY KEY,
    window_start BIGINT NOT NULL,                 -- microseconds since the epoch, UTC
    failures     BIGINT NOT NULL CHECK (failures > 0)
);
CREATE INDEX login_failures_by_window ON login_failures (window_start);
