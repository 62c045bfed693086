-- The foundation: users and their sessions, activations, and the event log.
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC) in both engines, so that
-- ordering and comparison never depend on how a driver formats text dates.

-- Staff and terminals that log in. A shelter operator belongs to exactly one welfare shelter;
-- the shelters table arrives with the shelter capability, so shelter_id is checked there.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,               -- argon2id PHC string
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'coordinator', 'shelter_operator', 'board')),
    shelter_id    INTEGER,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL,
    CHECK ((role = 'shelter_operator') = (shelter_id IS NOT NULL))
);

-- Sessions live in the database so that several server instances share them. Only a hash of
-- the token is kept: a copy of this table does not let anyone log in.
CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,               -- hex SHA-256 of the bearer token
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- A drill (訓練) or a real event (災害対応). Every operational record belongs to one.
-- last_seq is the activation's event counter: bumping it inside the writing transaction is
-- what makes seq consecutive under concurrent writers.
CREATE TABLE activations (
    id        INTEGER PRIMARY KEY,
    name      TEXT    NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('drill', 'real')),
    status    TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    opened_at INTEGER NOT NULL,
    opened_by INTEGER REFERENCES users (id),      -- NULL: opened by the server itself (demo, drills)
    closed_at INTEGER,
    closed_by INTEGER REFERENCES users (id),
    last_seq  INTEGER NOT NULL DEFAULT 0
);

-- The event log: the audit trail and what terminals resume from. One row per change,
-- written in the same transaction as the change.
CREATE TABLE events (
    activation_id INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    type          TEXT    NOT NULL,
    payload       TEXT    NOT NULL,               -- JSON, exactly as sent to terminals
    actor_id      INTEGER REFERENCES users (id),
    actor         TEXT    NOT NULL,               -- username at the time, kept if the user goes
    at            INTEGER NOT NULL,
    PRIMARY KEY (activation_id, seq)
) WITHOUT ROWID;

-- Centre-wide notices (お知らせ) shown on the board.
CREATE TABLE announcements (
    id            INTEGER PRIMARY KEY,
    activation_id INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    text          TEXT    NOT NULL,
    posted_by     TEXT    NOT NULL,
    posted_at     INTEGER NOT NULL
);
CREATE INDEX announcements_by_activation ON announcements (activation_id, id);
