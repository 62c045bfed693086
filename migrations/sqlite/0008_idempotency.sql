-- Idempotency keys (see src/idempotency.rs). A write request may carry `Idempotency-Key`; the
-- key's row is inserted in the same transaction as the write (inside the write's savepoint), so
-- after a crash the write and its key are both there or both gone. `status` and `response` are
-- filled in after the answer is known; a row without them is a write that committed and whose
-- answer was lost (the process died between the two). Rows older than 24 h are purged.
CREATE TABLE idempotency_keys (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_key   TEXT    NOT NULL,                -- the header's value, 1-200 characters
    method       TEXT    NOT NULL,
    route        TEXT    NOT NULL,                -- the matched route pattern, never the raw URI
    request_hash TEXT    NOT NULL,                -- hex SHA-256 of method, path, query and body
    created_at   INTEGER NOT NULL,
    status       INTEGER,                         -- the original answer, once stored
    response     BLOB,
    PRIMARY KEY (user_id, client_key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
