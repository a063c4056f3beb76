-- The first answer per (user, Idempotency-Key) for 24 h, replayed for a repeat (rest-api.md §2.4). Portable SQL:
-- SQLite and PostgreSQL. status is NULL while the first request is still in flight. Times are epoch milliseconds.
CREATE TABLE idempotency_keys (
    user_id      VARCHAR(40)  NOT NULL,
    idem_key     VARCHAR(255) NOT NULL,
    fingerprint  VARCHAR(64)  NOT NULL,
    status       INTEGER,
    content_type VARCHAR(128),
    body         TEXT,
    created_at   BIGINT       NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
