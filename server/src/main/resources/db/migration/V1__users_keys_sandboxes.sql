-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Times are epoch milliseconds.
CREATE TABLE users (
    id            VARCHAR(40)  PRIMARY KEY,
    email         VARCHAR(320) NOT NULL UNIQUE,
    sandbox_limit INTEGER      NOT NULL,
    created_at    BIGINT       NOT NULL
);

CREATE TABLE api_keys (
    id         VARCHAR(40) PRIMARY KEY,
    user_id    VARCHAR(40) NOT NULL REFERENCES users (id),
    key_hash   CHAR(64)    NOT NULL UNIQUE,
    prefix     VARCHAR(16) NOT NULL,
    created_at BIGINT      NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE sandboxes (
    id                       VARCHAR(40)  PRIMARY KEY,
    user_id                  VARCHAR(40)  NOT NULL REFERENCES users (id),
    name                     VARCHAR(128) NOT NULL,
    status                   VARCHAR(16)  NOT NULL,
    shape                    VARCHAR(64)  NOT NULL,
    rootfs                   VARCHAR(256) NOT NULL,
    vcpu                     INTEGER      NOT NULL,
    mem_mib                  INTEGER      NOT NULL,
    disk_mib                 INTEGER      NOT NULL,
    ip                       VARCHAR(64),
    host_id                  VARCHAR(64),
    ingress_enabled          BOOLEAN      NOT NULL,
    auto_pause_after_seconds INTEGER,
    envs                     TEXT         NOT NULL,
    egress                   TEXT         NOT NULL,
    ssh_pubkeys              TEXT         NOT NULL,
    bandwidth_quota_bytes    BIGINT       NOT NULL,
    spawn_ms                 BIGINT,
    created_at               BIGINT       NOT NULL,
    running_at               BIGINT,
    destroyed_at             BIGINT,
    failure                  TEXT,
    created_by               VARCHAR(320)
);

CREATE INDEX sandboxes_user_status ON sandboxes (user_id, status);
CREATE INDEX sandboxes_user_ip ON sandboxes (user_id, ip);
-- Names are unique among a user's live sandboxes; a destroyed or failed sandbox frees its name.
CREATE UNIQUE INDEX sandboxes_live_name ON sandboxes (user_id, name)
    WHERE status <> 'destroyed' AND status <> 'failed';
