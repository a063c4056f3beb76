-- Private networks (spec §10). Portable SQL: SQLite and PostgreSQL. Times are epoch milliseconds.
CREATE TABLE networks (
    id         VARCHAR(40)  PRIMARY KEY,
    user_id    VARCHAR(40)  NOT NULL REFERENCES users (id),
    name       VARCHAR(128) NOT NULL,
    cidr       VARCHAR(32),
    created_at BIGINT       NOT NULL
);

CREATE UNIQUE INDEX networks_user_name ON networks (user_id, name);

-- A sandbox's membership; ip is its overlay address once the host has programmed it.
CREATE TABLE network_members (
    network_id  VARCHAR(40) NOT NULL REFERENCES networks (id),
    sandbox_id  VARCHAR(40) NOT NULL REFERENCES sandboxes (id),
    ip          VARCHAR(64),
    attached_at BIGINT      NOT NULL,
    PRIMARY KEY (network_id, sandbox_id)
);

CREATE INDEX network_members_sandbox ON network_members (sandbox_id);
