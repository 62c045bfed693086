-- Welfare shelters (福祉避難所): the registry (master data, shared by every activation), whether
-- each is open in an activation, and the assignments of register persons to them with the
-- shelter operator's record of arrival.

-- The registry. Categories and facilities are JSON arrays of the codes in src/shelters/mod.rs.
CREATE TABLE shelters (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,           -- 施設名: the natural key of the facility-list import
    address     TEXT    NOT NULL,
    latitude    REAL,
    longitude   REAL,
    capacity    INTEGER NOT NULL CHECK (capacity >= 0), -- 定員 in ordinary times
    categories  TEXT    NOT NULL DEFAULT '[]',     -- 受入対象
    facilities  TEXT    NOT NULL DEFAULT '[]',     -- 設備
    contact     TEXT    NOT NULL DEFAULT '',
    notes       TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- users.shelter_id arrived before this table; SQLite cannot add a foreign key to an existing
-- column, so triggers keep an operator's shelter real.
CREATE TRIGGER users_shelter_exists_insert BEFORE INSERT ON users
    WHEN NEW.shelter_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM shelters WHERE id = NEW.shelter_id)
    BEGIN SELECT RAISE(ABORT, 'users.shelter_id: no such shelter'); END;
CREATE TRIGGER users_shelter_exists_update BEFORE UPDATE OF shelter_id ON users
    WHEN NEW.shelter_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM shelters WHERE id = NEW.shelter_id)
    BEGIN SELECT RAISE(ABORT, 'users.shelter_id: no such shelter'); END;
CREATE TRIGGER shelters_keep_operators BEFORE DELETE ON shelters
    WHEN EXISTS (SELECT 1 FROM users WHERE shelter_id = OLD.id)
    BEGIN SELECT RAISE(ABORT, 'shelters: operators still belong to this shelter'); END;

-- A shelter in one activation: open or closed, since when, and the capacity declared for this
-- activation (NULL: the registry's). No row: closed, never opened.
CREATE TABLE shelter_openings (
    activation_id INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    shelter_id    INTEGER NOT NULL REFERENCES shelters (id),
    status        TEXT    NOT NULL CHECK (status IN ('open', 'closed')),
    capacity      INTEGER CHECK (capacity >= 0),
    opened_at     INTEGER NOT NULL,
    opened_by     TEXT    NOT NULL,
    closed_at     INTEGER,
    closed_by     TEXT,
    PRIMARY KEY (activation_id, shelter_id)
) WITHOUT ROWID;

-- A register person placed in a shelter. Reassigning ends the active row (superseded_at) and
-- adds a new one, so the history stays. status is the operator's latest record.
-- A place is taken while status is 'assigned' or 'arrived'.
CREATE TABLE assignments (
    id              INTEGER PRIMARY KEY,
    activation_id   INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    resident_id     TEXT    NOT NULL REFERENCES register_persons (resident_id),
    shelter_id      INTEGER NOT NULL REFERENCES shelters (id),
    reason          TEXT    NOT NULL DEFAULT '',
    override_reason TEXT,                          -- an admin placed them past a closed or full shelter
    status          TEXT    NOT NULL DEFAULT 'assigned'
                    CHECK (status IN ('assigned', 'arrived', 'not_arrived', 'left', 'transferred')),
    assigned_by     TEXT    NOT NULL,
    assigned_at     INTEGER NOT NULL,
    superseded_at   INTEGER,
    superseded_by   TEXT
);
-- At most one active assignment per person and activation.
CREATE UNIQUE INDEX assignments_one_active ON assignments (activation_id, resident_id) WHERE superseded_at IS NULL;
CREATE INDEX assignments_by_shelter ON assignments (activation_id, shelter_id, status) WHERE superseded_at IS NULL;

-- What the operator recorded for an assignment (到着, 未到着, 退所, 移送), with notes.
CREATE TABLE assignment_updates (
    id            INTEGER PRIMARY KEY,
    assignment_id INTEGER NOT NULL REFERENCES assignments (id) ON DELETE CASCADE,
    status        TEXT    NOT NULL CHECK (status IN ('arrived', 'not_arrived', 'left', 'transferred')),
    destination   TEXT    NOT NULL DEFAULT '',     -- where a transferred person went (病院, 他施設)
    note          TEXT    NOT NULL DEFAULT '',
    recorded_by   TEXT    NOT NULL,
    recorded_at   INTEGER NOT NULL
);
CREATE INDEX assignment_updates_by_assignment ON assignment_updates (assignment_id, id);
