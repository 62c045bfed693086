-- The support-needed register (避難行動要支援者名簿), its imports, safety confirmation per
-- activation, disclosure declarations, and the audit log of who read or exported what.

-- One row per person, keyed by the municipality's resident_id (宛名番号; never the My Number).
-- Master data: shared by every activation. A person missing from a newer import is marked
-- removed, never deleted, so safety history and assignments keep their subject.
CREATE TABLE register_persons (
    resident_id        TEXT    PRIMARY KEY,
    name               TEXT    NOT NULL,
    name_kana          TEXT,
    birth_date         TEXT,                       -- YYYY-MM-DD
    sex                TEXT    CHECK (sex IN ('male', 'female')),
    postal_code        TEXT,                       -- NNN-NNNN
    address            TEXT    NOT NULL,
    phone              TEXT,
    district           TEXT,
    care_level         TEXT,                       -- 要配慮個人情報
    disability         TEXT,                       -- 要配慮個人情報
    support_reasons    TEXT,
    consent            INTEGER CHECK (consent IN (0, 1)), -- NULL: not given, treated as not consented
    supporters         TEXT,
    designated_shelter TEXT,
    latitude           REAL,
    longitude          REAL,
    notes              TEXT,
    -- A digest of the fields above, so a re-import finds unchanged people without loading them.
    fingerprint        TEXT    NOT NULL,
    removed_at         INTEGER,                    -- set when a newer import no longer lists them
    first_import_id    INTEGER NOT NULL,
    last_import_id     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX register_persons_by_district ON register_persons (district, resident_id);

-- Each committed import, with its report's figures.
CREATE TABLE register_imports (
    id           INTEGER PRIMARY KEY,
    imported_at  INTEGER NOT NULL,
    imported_by  TEXT    NOT NULL,
    encoding     TEXT    NOT NULL,
    rows         INTEGER NOT NULL,
    new          INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    unchanged    INTEGER NOT NULL,
    removed      INTEGER NOT NULL,
    invalid      INTEGER NOT NULL
);

-- What each import changed for each person already in the register (the register's history);
-- values are not repeated here, only the names of the fields that changed. A person's arrival
-- is their first_import_id.
CREATE TABLE register_changes (
    import_id   INTEGER NOT NULL REFERENCES register_imports (id),
    resident_id TEXT    NOT NULL REFERENCES register_persons (resident_id),
    change      TEXT    NOT NULL CHECK (change IN ('updated', 'removed', 'restored')),
    fields      TEXT    NOT NULL,                  -- JSON array of field names
    PRIMARY KEY (import_id, resident_id)
) WITHOUT ROWID;

-- Safety confirmation (安否確認): every recorded status, with who, when and a note. The current
-- status of a person in an activation is their latest row; no row means unconfirmed.
CREATE TABLE safety_checks (
    id            INTEGER PRIMARY KEY,
    activation_id INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    resident_id   TEXT    NOT NULL REFERENCES register_persons (resident_id),
    status        TEXT    NOT NULL CHECK (status IN ('unconfirmed', 'safe_at_home', 'evacuated', 'needs_help',
                                                     'not_home', 'hospital', 'unreachable', 'deceased')),
    note          TEXT    NOT NULL DEFAULT '',
    checked_by    TEXT    NOT NULL,
    checked_at    INTEGER NOT NULL
);
CREATE INDEX safety_checks_by_person ON safety_checks (activation_id, resident_id, id);

-- The current status per person and activation, kept beside the history so the board's
-- counts and the sweep lists never scan it.
CREATE TABLE safety_status (
    activation_id INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    resident_id   TEXT    NOT NULL REFERENCES register_persons (resident_id),
    status        TEXT    NOT NULL,
    check_id      INTEGER NOT NULL REFERENCES safety_checks (id),
    PRIMARY KEY (activation_id, resident_id)
) WITHOUT ROWID;

-- An admin's declaration, in a real activation, that coordinators may see people who did
-- not consent (災害対策基本法 49条の11 第3項), until it ends.
CREATE TABLE disclosures (
    id            INTEGER PRIMARY KEY,
    activation_id INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    declared_by   TEXT    NOT NULL,
    declared_at   INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    reason        TEXT    NOT NULL,
    ended_at      INTEGER
);

-- Who read, exported or changed what in the register. Append-only: each row carries the hash
-- of the row before it, so a removed or altered row breaks the chain.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    subject   TEXT    NOT NULL,                    -- what was touched: a resident_id, an import, a filter
    detail    TEXT    NOT NULL DEFAULT '{}',       -- JSON, never personal data beyond the subject
    prev_hash TEXT    NOT NULL,
    hash      TEXT    NOT NULL
);
-- The chain's head: one row, locked by each appender, so concurrent appends (on several
-- server instances too) each chain to the one before.
CREATE TABLE audit_head (
    one       INTEGER PRIMARY KEY CHECK (one = 1),
    last_hash TEXT    NOT NULL
);
INSERT INTO audit_head (one, last_hash) VALUES (1, 'genesis');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
