-- Delegated sandbox access tokens (interactive-api.md §8): at most one per sandbox, only a SHA-256 of the token
-- is kept, with its redacted hint. Portable SQL: SQLite and PostgreSQL. Times are epoch milliseconds.
CREATE TABLE sandbox_access_tokens (
    sandbox_id VARCHAR(40)  PRIMARY KEY REFERENCES sandboxes (id),
    user_id    VARCHAR(40)  NOT NULL REFERENCES users (id),
    token_hash VARCHAR(64)  NOT NULL,
    token_hint VARCHAR(32)  NOT NULL,
    created_at BIGINT       NOT NULL,
    rotated_at BIGINT
);

CREATE UNIQUE INDEX sandbox_access_tokens_hash ON sandbox_access_tokens (token_hash);
