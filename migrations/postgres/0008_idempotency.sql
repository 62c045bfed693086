-- Idempotency keys (see src/idempotency.rs). A write request may carry `Idempotency-Key`; the
-- key's row is inserted in the same transaction as the write, so after a crash the write and
-- its key are both there or both gone. A second request with the same key waits on the primary
-- key's index until the first commits or rolls back. `status` and `response` are filled in
-- after the answer is known; a row without them is a write that committed and whose answer was
-- lost (the process died between the two). Rows older than 24 h are purged.
CREATE TABLE idempotency_keys (
    user_id      BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_key   TEXT    NOT NULL,                -- the header's value, 1-200 characters
    method       TEXT    NOT NULL,
    route        TEXT    NOT NULL,                -- the matched route pattern, never the raw URI
    request_hash TEXT    NOT NULL,                -- hex SHA-256 of method, path, query and body
    created_at   BIGINT  NOT NULL,
    status       INTEGER,                         -- the original answer, once stored
    response     BYTEA,
    PRIMARY KEY (user_id, client_key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
