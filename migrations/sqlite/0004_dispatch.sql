-- The volunteer centre (災害VC): volunteers and their daily check-in, needs taken in by phone,
-- teams (班) formed for a need, equipment (資機材) issued from a counted stock. Everything
-- belongs to one activation: a drill's volunteers are never a real event's.

-- A volunteer registered at the centre. card_code is printed on their volunteer card (with a
-- QR code) so a returning volunteer is found in one step; phone finds them too.
CREATE TABLE volunteers (
    id                INTEGER PRIMARY KEY,
    activation_id     INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    card_code         TEXT    NOT NULL,
    name              TEXT    NOT NULL,
    name_kana         TEXT    NOT NULL DEFAULT '',
    phone             TEXT    NOT NULL,            -- digits and hyphens, as normalised
    phone_digits      TEXT    NOT NULL,            -- digits only: what a search compares
    prefecture        TEXT    NOT NULL DEFAULT '',
    city              TEXT    NOT NULL DEFAULT '',
    age_group         TEXT    NOT NULL DEFAULT '',
    emergency_contact TEXT    NOT NULL DEFAULT '',
    skills            TEXT    NOT NULL DEFAULT '[]', -- JSON array of skill codes
    group_name        TEXT    NOT NULL DEFAULT '',
    -- ボランティア活動保険: joined (with the plan and the days it covers), or not.
    insurance_joined  INTEGER NOT NULL DEFAULT 0 CHECK (insurance_joined IN (0, 1)),
    insurance_plan    TEXT    CHECK (insurance_plan IN ('basic', 'disaster')), -- disaster: 天災タイプ
    insurance_from    TEXT,                        -- YYYY-MM-DD: cover starts
    insurance_until   TEXT,                        -- YYYY-MM-DD: 31 March of the fiscal year
    insurance_enrolled_here INTEGER NOT NULL DEFAULT 0 CHECK (insurance_enrolled_here IN (0, 1)),
    registered_at     INTEGER NOT NULL,
    registered_by     TEXT    NOT NULL,
    UNIQUE (activation_id, card_code)
);
CREATE INDEX volunteers_by_phone ON volunteers (activation_id, phone_digits);

-- One row per volunteer and day they came (the day in Japan, YYYY-MM-DD).
CREATE TABLE checkins (
    activation_id INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    volunteer_id  INTEGER NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    day           TEXT    NOT NULL,
    checked_in_at INTEGER NOT NULL,
    checked_in_by TEXT    NOT NULL,
    left_at       INTEGER,                         -- went home (帰宅)
    PRIMARY KEY (volunteer_id, day)
) WITHOUT ROWID;
CREATE INDEX checkins_by_day ON checkins (activation_id, day);

-- A request for help (ニーズ). Personal data of the requester stays in the API, never on the
-- board, which shows district, category, people and priority.
CREATE TABLE needs (
    id              INTEGER PRIMARY KEY,
    activation_id   INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    requester_name  TEXT    NOT NULL,
    phone           TEXT    NOT NULL DEFAULT '',
    phone_digits    TEXT    NOT NULL DEFAULT '',
    address         TEXT    NOT NULL,
    address_key     TEXT    NOT NULL,              -- the address without spaces or hyphen variants
    district        TEXT    NOT NULL DEFAULT '',
    category        TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    people_needed   INTEGER NOT NULL CHECK (people_needed BETWEEN 1 AND 100),
    skills_needed   TEXT    NOT NULL DEFAULT '[]',
    priority        TEXT    NOT NULL CHECK (priority IN ('high', 'normal', 'low')),
    urgent          INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),        -- 危機介入
    requires_care   INTEGER NOT NULL DEFAULT 0 CHECK (requires_care IN (0, 1)), -- 要配慮
    resident_id     TEXT    REFERENCES register_persons (resident_id),
    status          TEXT    NOT NULL DEFAULT 'received'
                    CHECK (status IN ('received', 'surveyed', 'matched', 'dispatched', 'reported',
                                      'done', 'continuing', 'cancelled')),
    received_at     INTEGER NOT NULL,
    received_by     TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX needs_by_status ON needs (activation_id, status);
CREATE INDEX needs_by_phone ON needs (activation_id, phone_digits);
CREATE INDEX needs_by_address ON needs (activation_id, address_key);

-- Every status a need went through, with who and why.
CREATE TABLE need_history (
    id         INTEGER PRIMARY KEY,
    need_id    INTEGER NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    status     TEXT    NOT NULL,
    note       TEXT    NOT NULL DEFAULT '',
    changed_by TEXT    NOT NULL,
    changed_at INTEGER NOT NULL
);
CREATE INDEX need_history_by_need ON need_history (need_id, id);

-- Counted stock of equipment (資機材). available never goes below zero.
CREATE TABLE equipment (
    id            INTEGER PRIMARY KEY,
    activation_id INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    total         INTEGER NOT NULL CHECK (total >= 0),
    available     INTEGER NOT NULL CHECK (available >= 0 AND available <= total),
    UNIQUE (activation_id, name)
);

-- A team (班) formed for a need.
CREATE TABLE teams (
    id               INTEGER PRIMARY KEY,
    activation_id    INTEGER NOT NULL REFERENCES activations (id) ON DELETE CASCADE,
    need_id          INTEGER NOT NULL REFERENCES needs (id),
    name             TEXT    NOT NULL,
    leader_id        INTEGER REFERENCES volunteers (id),
    vehicle          TEXT    NOT NULL DEFAULT '',
    orientation_done INTEGER NOT NULL DEFAULT 0 CHECK (orientation_done IN (0, 1)),
    status           TEXT    NOT NULL DEFAULT 'formed'
                     CHECK (status IN ('formed', 'dispatched', 'returned', 'closed', 'disbanded')),
    formed_at        INTEGER NOT NULL,
    formed_by        TEXT    NOT NULL,
    dispatched_at    INTEGER,
    expected_back_at INTEGER,
    returned_at      INTEGER,
    return_check     TEXT,                         -- JSON: injuries, near misses (ヒヤリハット)
    closed_at        INTEGER,
    report           TEXT                          -- JSON: outcome, hours, notes
);
CREATE INDEX teams_by_status ON teams (activation_id, status);

-- Members of a team. A volunteer is in at most one active team: the partial unique index is
-- what makes one of two racing coordinators win.
CREATE TABLE team_members (
    team_id      INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    PRIMARY KEY (team_id, volunteer_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX team_members_one_active ON team_members (volunteer_id) WHERE active = 1;

-- Equipment issued to a team and what came back.
CREATE TABLE team_equipment (
    team_id      INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    equipment_id INTEGER NOT NULL REFERENCES equipment (id),
    issued       INTEGER NOT NULL CHECK (issued > 0),
    returned     INTEGER NOT NULL DEFAULT 0 CHECK (returned >= 0 AND returned <= issued),
    PRIMARY KEY (team_id, equipment_id)
) WITHOUT ROWID;
